int placeholder_FixtureFailing(void) { return 0; }
