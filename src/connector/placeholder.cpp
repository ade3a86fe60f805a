// connector sources.
