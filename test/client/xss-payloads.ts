/**
 * Cross-site scripting payloads as a hostile client could write them into an entry: HTML in
 * Markdown, event handlers, `javascript:` links in every spelling, SVG and MathML, and mutation-XSS
 * shapes that fooled sanitizers before (OWASP XSS filter evasion cheat sheet, DOMPurify's own tests).
 * `JS` is replaced by a call that reports which payload ran.
 */
export const XSS_PAYLOADS: readonly string[] = [
  '<script>JS</script>',
  '<img src=x onerror="JS">',
  '<img src=x onerror=JS>',
  '<img src="x" onerror="JS"/>',
  '<svg onload="JS"></svg>',
  '<svg><script>JS</script></svg>',
  '<svg><animate onbegin="JS" attributeName="x" dur="1s"/></svg>',
  '<svg><set attributeName="onload" to="JS"/></svg>',
  '<svg><a xlink:href="javascript:JS"><text x="20" y="20">svg link</text></a></svg>',
  '<svg><foreignObject><img src=x onerror="JS"></foreignObject></svg>',
  '<math><mtext><table><mglyph><style><img src=x onerror="JS"></style></mglyph></table></mtext></math>',
  '<math><mi xlink:href="javascript:JS">math link</mi></math>',
  '<noscript><p title="</noscript><img src=x onerror=JS>"></noscript>',
  '<iframe src="javascript:JS"></iframe>',
  '<iframe srcdoc="<script>JS</script>"></iframe>',
  '<object data="javascript:JS"></object>',
  '<embed src="javascript:JS">',
  '<details open ontoggle="JS">details</details>',
  '<input autofocus onfocus="JS">',
  '<select autofocus onfocus="JS"></select>',
  '<video><source onerror="JS"></video>',
  '<audio src=x onerror="JS"></audio>',
  '<body onload="JS">',
  '<marquee onstart="JS">marquee</marquee>',
  '<p onmouseover="JS">hover me</p>',
  '<button onclick="JS">button</button>',
  '<form action="javascript:JS"><button>submit</button></form>',
  '<meta http-equiv="refresh" content="0;url=javascript:JS">',
  '<base href="javascript:JS//">',
  '<style>@import "javascript:JS";</style>',
  '<div style="background:url(javascript:JS)">styled</div>',
  '<a href="javascript:JS">plain javascript link</a>',
  '<a href="  JaVaScRiPt:JS">spaced, mixed case</a>',
  '<a href="jav&#x09;ascript:JS">tab inside</a>',
  '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;JS">entities</a>',
  '<a href="vbscript:JS">vbscript</a>',
  '<a href="data:text/html,<script>JS</script>">data link</a>',
  '[markdown link](javascript:JS)',
  '[encoded](javas&#99;ript:JS)',
  '![markdown image](javascript:JS)',
  '<javascript:JS>',
  '[reference][evil]\n\n[evil]: javascript:JS',
  '| cell |\n|---|\n| <img src=x onerror="JS"> |',
  '`<img src=x onerror=JS>` in code stays text',
];

/** The payloads with `JS` calling `report(n)` (n = index), e.g. `top.__pwned(3)`. */
export function armed(report: (n: number) => string, offset = 0): string[] {
  return XSS_PAYLOADS.map((payload, i) => payload.replaceAll('JS', report(offset + i)));
}
