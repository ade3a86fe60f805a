// sniff module sources.
