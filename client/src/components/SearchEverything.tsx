/** The incidents list's way into search across incidents (#19): the query goes to `/search?q=…`. */
import { useState } from 'react';
import { navigate } from '../router';
import { searchPath } from '../pages/SearchPage';

export function SearchEverything() {
  const [text, setText] = useState('');
  return (
    <form
      className="search-everything"
      role="search"
      aria-label="Across incidents"
      onSubmit={(e) => {
        e.preventDefault();
        navigate(searchPath(text));
      }}
    >
      <input
        type="search"
        name="q"
        aria-label="Find in every incident's log"
        placeholder="Have we seen this before?"
        autoComplete="off"
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      <button type="submit" className="quiet">
        Find
      </button>
    </form>
  );
}
