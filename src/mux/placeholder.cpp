// mux module sources.
