/**
 * Who a restricted incident's `members` name: users by id, and groups of the organisation's identity
 * provider as `group:<name>` (e.g. `group:security-team`), which let in everyone whose last sign-in
 * carried that group. User ids are lower-case letters and digits, so the two never clash.
 */
export const GROUP_MEMBER_PREFIX = 'group:';

export const groupMember = (group: string): string => `${GROUP_MEMBER_PREFIX}${group}`;

export const isGroupMember = (member: string): boolean => member.startsWith(GROUP_MEMBER_PREFIX);

/** A group member names a group: 1–200 characters, no commas (lists are comma-separated), control characters, or spaces around it. */
export const validGroupMember = (member: string): boolean => /^group:[^,\u0000-\u001f\u007f]{1,200}$/.test(member) && member.slice(GROUP_MEMBER_PREFIX.length).trim() === member.slice(GROUP_MEMBER_PREFIX.length);

/** Whether a user (by id, with their IdP groups) is among `members`. */
export function isMember(members: readonly string[], user: { id: string; groups?: readonly string[] }): boolean {
  return members.includes(user.id) || (user.groups ?? []).some((g) => members.includes(groupMember(g)));
}
