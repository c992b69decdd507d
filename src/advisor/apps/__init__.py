"""Apps: the `advisor` command line (`cli`) and the browser UI (`ui`)."""
