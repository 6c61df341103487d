"""watch: the rebuild loop and the live-reloading preview server."""
