// prefs.js keeps a browser's choices (a tab, the panel's height, a lesson)
// in localStorage. A locked-down browser may refuse storage: the choice
// then lasts until the page closes.

// loadPref returns the value kept under key, or null.
export function loadPref(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

// storePref keeps value under key, if the browser lets it.
export function storePref(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Private mode or storage off: nothing to keep.
  }
}
