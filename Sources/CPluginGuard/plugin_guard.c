/* plugin_guard.c: see include/plugin_guard.h. Every handler here only reads fixed buffers
 * and calls async-signal-safe functions (write, _exit, sigaction, raise, clock_gettime). */
#define _GNU_SOURCE
#include "plugin_guard.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { SLOT_COUNT = 64, LIBRARY_CAPACITY = 1024, WHAT_CAPACITY = 256, CALL_CAPACITY = 64 };

/* One plugin call in flight. `state` is 0 free, 1 being filled, 2 in flight. */
typedef struct {
    atomic_int state;
    char library[LIBRARY_CAPACITY];
    char what[WHAT_CAPACITY];
    char call[CALL_CAPACITY];
    double start;
    double limit;
    int previous; /* the token this thread had before (nesting), or -1 */
} slot_t;

static slot_t slots[SLOT_COUNT];
static _Thread_local int current = -1;
static _Thread_local int has_alternate_stack = 0;
static atomic_int installed = 0;
static atomic_int host_exiting = 0;
static atomic_int disabled = 0;
static _Atomic double interrupted_at = 0; /* monotonic seconds; 0 = not interrupted */
static _Atomic double interrupt_grace = 0;
static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
static struct sigaction previous_actions[sizeof(fatal_signals) / sizeof(fatal_signals[0])];

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void copy(char *to, const char *from, size_t capacity) {
    size_t i = 0;
    if (from != NULL)
        for (; i + 1 < capacity && from[i] != '\0'; i++) to[i] = from[i];
    to[i] = '\0';
}

/* ---- async-signal-safe output ---- */

static void put(const char *text) {
    size_t n = strlen(text);
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, text, n);
        if (w <= 0) return;
        text += w;
        n -= (size_t)w;
    }
}

static void put_int(long value) {
    char digits[24];
    int i = (int)sizeof(digits) - 1;
    int negative = value < 0;
    unsigned long v = negative ? (unsigned long)(-value) : (unsigned long)value;
    digits[i] = '\0';
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0 && i > 1);
    if (negative) digits[--i] = '-';
    put(digits + i);
}

/* Seconds with one decimal. */
static void put_seconds(double seconds) {
    long tenths = (long)(seconds * 10 + 0.5);
    put_int(tenths / 10);
    put(".");
    put_int(tenths % 10);
}

/* "`score` of attack `x` (/path/lib.so)" */
static void put_call(const slot_t *s) {
    put("`");
    put(s->call);
    put("` of ");
    put(s->what);
    put(" (");
    put(s->library);
    put(")");
}

static const char *signal_name(int sig) {
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    default: return "a fatal signal";
    }
}

/* The slot to blame: this thread's innermost call, else any call in flight. */
static const slot_t *blamed(int *on_this_thread) {
    if (current >= 0 && atomic_load(&slots[current].state) == 2) {
        *on_this_thread = 1;
        return &slots[current];
    }
    *on_this_thread = 0;
    for (int i = 0; i < SLOT_COUNT; i++)
        if (atomic_load(&slots[i].state) == 2) return &slots[i];
    return NULL;
}

/* ---- fatal signals ---- */

static void on_fatal_signal(int sig, siginfo_t *info, void *context) {
    int here = 0;
    const slot_t *s = blamed(&here);
    size_t index = 0;
    while (fatal_signals[index] != sig) index++;
    if (s == NULL) {
        /* Not a plugin's doing as far as we know: hand over to whoever handled it before
         * (the Swift runtime's backtracer, or the default action). */
        struct sigaction *before = &previous_actions[index];
        sigaction(sig, before, NULL);
        if ((before->sa_flags & SA_SIGINFO) && before->sa_sigaction != NULL) {
            before->sa_sigaction(sig, info, context);
            return;
        }
        if (before->sa_handler != SIG_DFL && before->sa_handler != SIG_IGN && before->sa_handler != NULL) {
            before->sa_handler(sig);
            return;
        }
    } else {
        put("\nerror: a plugin crashed: ");
        put(signal_name(sig));
        put(" (signal ");
        put_int(sig);
        put(") ");
        put(here ? "in " : "while this plugin call was in flight on another thread: ");
        put_call(s);
        put("; the run failed and its results are incomplete (`plugins.isolation: process` runs a plugin in a child process)\n");
    }
    /* End with the signal itself, so the exit status says what happened (128 + signal). */
    struct sigaction plain;
    memset(&plain, 0, sizeof(plain));
    plain.sa_handler = SIG_DFL;
    sigemptyset(&plain.sa_mask);
    sigaction(sig, &plain, NULL);
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, sig);
    pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
    raise(sig);
    _exit(128 + sig);
}

/* ---- exit() inside a plugin ---- */

static void on_exit_call(void) {
    if (atomic_load(&host_exiting)) return;
    int here = 0;
    const slot_t *s = blamed(&here);
    if (s == NULL) return;
    put("\nerror: a plugin called exit() ");
    put(here ? "in " : "while this plugin call was in flight: ");
    put_call(s);
    put("; the run failed and its results are incomplete\n");
    _exit(1);
}

/* ---- the watchdog: time limits, and interrupts a plugin ignores ---- */

static void *watchdog(void *unused) {
    (void)unused;
    struct timespec tick = {0, 50 * 1000 * 1000};
    for (;;) {
        nanosleep(&tick, NULL);
        double t = now();
        double interrupted = atomic_load(&interrupted_at);
        for (int i = 0; i < SLOT_COUNT; i++) {
            slot_t *s = &slots[i];
            if (atomic_load(&s->state) != 2) continue;
            if (s->limit > 0 && t - s->start > s->limit) {
                put("\nerror: a plugin call ran past its time limit: ");
                put_call(s);
                put(" has run for ");
                put_seconds(t - s->start);
                put(" s, more than plugins.timeout_seconds = ");
                put_seconds(s->limit);
                put(" s; the run failed and its results are incomplete\n");
                _exit(1);
            }
            double grace = atomic_load(&interrupt_grace);
            if (interrupted > 0 && t - interrupted > grace) {
                put("\ninterrupted: ");
                put_call(s);
                put(" did not return within ");
                put_seconds(grace);
                put(" s of the interrupt; stopped now\n");
                atomic_store(&host_exiting, 1);
                _exit(130);
            }
        }
    }
    return NULL;
}

void mia_guard_install(void) {
    if (atomic_load(&disabled)) return;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&installed, &expected, 1)) return;
    for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++) {
        struct sigaction action;
        memset(&action, 0, sizeof(action));
        action.sa_sigaction = on_fatal_signal;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&action.sa_mask);
        sigaction(fatal_signals[i], &action, &previous_actions[i]);
    }
    atexit(on_exit_call);
    /* Default stack size: a small one can be refused (static TLS of the process's libraries). */
    pthread_t thread;
    if (pthread_create(&thread, NULL, watchdog, NULL) == 0) pthread_detach(thread);
    else put("warning: mia-audit could not start its plugin watchdog; plugins.timeout_seconds is not enforced\n");
}

/* A stack for the signal handler, so a plugin that overflows its stack is still reported. */
static void ensure_alternate_stack(void) {
    if (has_alternate_stack) return;
    has_alternate_stack = 1;
    stack_t existing;
    if (sigaltstack(NULL, &existing) == 0 && !(existing.ss_flags & SS_DISABLE)) return;
    stack_t s;
    s.ss_size = 64 * 1024;
    s.ss_sp = malloc(s.ss_size); /* kept for the thread's life */
    s.ss_flags = 0;
    if (s.ss_sp != NULL) sigaltstack(&s, NULL);
}

int mia_guard_enter(const char *library, const char *what, const char *call, double timeout_seconds) {
    if (atomic_load(&disabled)) return -1;
    ensure_alternate_stack();
    for (int i = 0; i < SLOT_COUNT; i++) {
        int expected = 0;
        if (!atomic_compare_exchange_strong(&slots[i].state, &expected, 1)) continue;
        slot_t *s = &slots[i];
        copy(s->library, library, LIBRARY_CAPACITY);
        copy(s->what, what, WHAT_CAPACITY);
        copy(s->call, call, CALL_CAPACITY);
        s->start = now();
        s->limit = timeout_seconds > 0 ? timeout_seconds : 0;
        s->previous = current;
        atomic_store(&s->state, 2);
        current = i;
        return i;
    }
    return -1;
}

void mia_guard_leave(int token) {
    if (token < 0 || token >= SLOT_COUNT) return;
    current = slots[token].previous;
    atomic_store(&slots[token].state, 0);
}

void mia_guard_interrupted(double grace_seconds) {
    atomic_store(&interrupt_grace, grace_seconds);
    atomic_store(&interrupted_at, now());
}

void mia_guard_disable(void) { atomic_store(&disabled, 1); }

void mia_guard_host_exiting(void) { atomic_store(&host_exiting, 1); }

int mia_guard_in_flight(void) {
    int n = 0;
    for (int i = 0; i < SLOT_COUNT; i++) n += atomic_load(&slots[i].state) == 2;
    return n;
}
