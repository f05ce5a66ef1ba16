/* plugin_guard.h: the host's record of plugin calls in flight, and what it does when a plugin
 * misbehaves inside one (crash, exit(), a call past its time limit, an interrupt it ignores).
 *
 * Written in C because the fatal-signal handler and the `atexit` handler must be
 * async-signal-safe: they only read fixed buffers filled before the call and `write(2)` them.
 * Swift reaches it through `PluginGuard` (Sources/AuditCore/Loading/PluginGuard.swift). */
#ifndef MIA_PLUGIN_GUARD_H
#define MIA_PLUGIN_GUARD_H

#ifdef __cplusplus
extern "C" {
#endif

/** Installs, once per process, the handlers for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT,
 *  the `atexit` handler and the watchdog thread. Later calls do nothing. */
void mia_guard_install(void);

/** Records that the calling thread enters plugin call `call` (`score`) of `what`
 *  (`attack \`lira\``) in `library` (its path). `timeout_seconds` > 0 is the call's time limit
 *  (the watchdog ends the process with exit 1 past it); 0 means none. Returns a token for
 *  `mia_guard_leave`, or -1 when every slot is taken (the call then runs unrecorded).
 *  Strings are copied (truncated to fixed buffers). Calls nest (a plugin calling back into the
 *  host, which calls another plugin). Thread-safe. */
int mia_guard_enter(const char *library, const char *what, const char *call, double timeout_seconds);

/** Ends the record `token` returned by `mia_guard_enter` on the same thread. -1 is ignored. */
void mia_guard_leave(int token);

/** The user interrupted the run (first Ctrl-C): a plugin call still in flight `grace_seconds`
 *  later is reported and the process ends with exit 130. */
void mia_guard_interrupted(double grace_seconds);

/** The host itself is about to call `exit` (an interrupt, a finished command): the `atexit`
 *  handler must not blame a plugin. */
void mia_guard_host_exiting(void);

/** In a child process of `plugins.isolation: process`, before any plugin call: nothing is
 *  installed or recorded, so a crash or `exit` of the plugin ends the child as the plugin ended
 *  it, and the host (which waits for the child) words the error. */
void mia_guard_disable(void);

/** How many plugin calls are in flight now (for tests). */
int mia_guard_in_flight(void);

#ifdef __cplusplus
}
#endif

#endif /* MIA_PLUGIN_GUARD_H */
