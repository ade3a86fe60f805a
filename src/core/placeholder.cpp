// core module sources.
