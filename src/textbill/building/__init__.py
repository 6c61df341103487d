"""build: plan the outputs, run the jobs, write the site and the manifest."""
