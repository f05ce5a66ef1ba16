/* A shared library that is not a plugin: it exports a function, but not `mia_plugin_entry`. */

/* Any exported symbol other than the entry. */
int fixture_no_entry_answer(void) { return 42; }
