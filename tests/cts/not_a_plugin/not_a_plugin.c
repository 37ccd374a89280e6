/* A shared library named like a plugin that is none: it loads, but exports no plinth_plugin_init. */
int plinth_not_a_plugin_answer(void) { return 42; }
