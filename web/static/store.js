// store.js holds the page's selection and view state in one object and
// tells who asked when a field changes. Modules read with get() and write
// with set(patch); on('change:<field>', fn) hears fn(value, old) after a
// field changed, on('change', fn) once per set() that changed anything,
// with the names of the fields.
//
// The state object is never replaced, only mutated, so window.dockmap can
// be the object itself: a test holding it always sees the current values.

// createStore returns a store whose state starts as initial.
export function createStore(initial = {}) {
  const state = { ...initial };
  const listeners = new Map(); // event name → Set of fn

  const emit = (event, ...args) => {
    for (const fn of listeners.get(event) || []) {
      try {
        fn(...args);
      } catch (err) {
        console.warn(`dockmap: ${event} listener`, err);
      }
    }
  };

  return {
    // get returns the state: the live object, to read, not to write.
    get() {
      return state;
    },
    // set changes the fields of patch, then tells each changed field's
    // listeners, then the "change" listeners.
    set(patch) {
      const changed = [];
      for (const [k, v] of Object.entries(patch)) {
        if (Object.is(state[k], v)) continue;
        changed.push([k, state[k]]);
        state[k] = v;
      }
      for (const [k, old] of changed) emit(`change:${k}`, state[k], old);
      if (changed.length) emit('change', changed.map(([k]) => k));
    },
    // on calls fn on event and returns a function that stops it.
    on(event, fn) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event).add(fn);
      return () => listeners.get(event)?.delete(fn);
    },
  };
}
