/* passwd.c: `muleteer hash-password` and `muleteer passwd`: read a password
 * (no echo on a terminal), hash it with PBKDF2 and, for passwd, write it
 * into muleteer.conf in place of the old web_password line. */
#include "config.h"

#include "passwd.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "util/conf.h"
#include "util/file.h"
#include "util/xalloc.h"
#include "webauth/password.h"

/* Longest password accepted, in bytes. */
#define MAX_PASSWORD 1024

/* ---- reading a password ---- */

static struct termios saved_tty;
static volatile sig_atomic_t echo_off;

static void
echo_restore(void)
{
    if (echo_off) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
        echo_off = 0;
    }
}

/* A Ctrl-C at the prompt must not leave the terminal without echo. */
static void
on_signal(int sig)
{
    if (echo_off)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* read_line: one line of stdin without its line end (LF or CRLF). With a
 * terminal, prompt goes to stderr and echo is off meanwhile. NULL with a
 * message on stderr at end of input, on a NUL byte or over MAX_PASSWORD. */
static char *
read_line(const char *prompt, bool tty)
{
    if (tty) {
        fprintf(stderr, "%s", prompt);
        fflush(stderr);
        if (tcgetattr(STDIN_FILENO, &saved_tty) == 0) {
            struct termios t = saved_tty;
            t.c_lflag &= ~(tcflag_t)ECHO;
            t.c_lflag |= ECHONL;
            signal(SIGINT, on_signal);
            signal(SIGTERM, on_signal);
            signal(SIGHUP, on_signal);
            if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0)
                echo_off = 1;
        }
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    echo_restore();
    if (n < 0) {
        free(line);
        fprintf(stderr, "muleteer: no password on standard input\n");
        return NULL;
    }
    if (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    if (n > 0 && line[n - 1] == '\r')
        line[--n] = '\0';
    if (strlen(line) != (size_t)n || n > MAX_PASSWORD) {
        explicit_bzero(line, cap);
        free(line);
        fprintf(stderr, "muleteer: the password must be one line of at most %d bytes "
                        "without NUL bytes\n", MAX_PASSWORD);
        return NULL;
    }
    return line;
}

void
passwd_free_secret(char *s)
{
    if (s != NULL) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

char *
passwd_read_new(const char *prompt)
{
    bool tty = isatty(STDIN_FILENO) == 1;
    char *pw = read_line(prompt, tty);
    if (pw == NULL)
        return NULL;
    if (*pw == '\0') {
        fprintf(stderr, "muleteer: the password must not be empty\n");
        passwd_free_secret(pw);
        return NULL;
    }
    if (tty) {
        char *again = read_line("Again: ", tty);
        if (again == NULL || strcmp(pw, again) != 0) {
            if (again != NULL)
                fprintf(stderr, "muleteer: the two passwords differ\n");
            passwd_free_secret(pw);
            passwd_free_secret(again);
            return NULL;
        }
        passwd_free_secret(again);
    }
    return pw;
}

static char *
hash_new_password(void)
{
    char *pw = passwd_read_new("New web password: ");
    if (pw == NULL)
        return NULL;
    char *hash = webauth_password_hash(pw);
    passwd_free_secret(pw);
    if (hash == NULL)
        fprintf(stderr, "muleteer: no random bytes for a salt (getrandom failed: %s)\n",
                strerror(errno));
    return hash;
}

int
passwd_hash_command(void)
{
    char *hash = hash_new_password();
    if (hash == NULL)
        return 1;
    printf("%s\n", hash);
    free(hash);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- rewriting muleteer.conf ---- */

/* is_password_line: "web_password =" after optional blanks. */
static bool
is_password_line(const char *line, size_t len)
{
    static const char key[] = "web_password";
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (len - i < sizeof key - 1 || memcmp(line + i, key, sizeof key - 1) != 0)
        return false;
    i += sizeof key - 1;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return i < len && line[i] == '=';
}

/* with_password: text with its first web_password line replaced by
 * "web_password = HASH" (appended when there is none); every other byte
 * is kept. */
static char *
with_password(const char *text, size_t len, const char *hash, size_t *out_len)
{
    char *line = xasprintf("web_password = %s", hash);
    size_t cap = len + strlen(line) + 2, n = 0;
    char *out = xmalloc(cap + 1);
    bool done = false;
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        size_t l = end - pos;
        if (!done && is_password_line(text + pos, l)) {
            /* Keep a CRLF line end if the file uses them. */
            bool cr = l > 0 && text[end - 1] == '\r';
            n += (size_t)sprintf(out + n, "%s%s", line, cr ? "\r" : "");
            done = true;
        } else {
            memcpy(out + n, text + pos, l);
            n += l;
        }
        if (nl != NULL)
            out[n++] = '\n';
        pos = end + (nl != NULL ? 1 : 0);
    }
    if (!done) {
        if (n > 0 && out[n - 1] != '\n')
            out[n++] = '\n';
        n += (size_t)sprintf(out + n, "%s\n", line);
    }
    out[n] = '\0';
    free(line);
    *out_len = n;
    return out;
}

int
passwd_change_command(void)
{
    int status = 1;
    char *path = conf_default_file();
    char *hash = NULL, *text = NULL, *updated = NULL, *pwfile = NULL;
    conf_t *conf = conf_new();
    mt_error_t *err = NULL;
    struct stat st;
    size_t len = 0, new_len = 0;
    mode_t mode;

    /* Refuse a file the programs would refuse anyway, before asking. */
    if (conf_load_file(conf, path, &err) != 0 || stat(path, &st) != 0) {
        fprintf(stderr, "muleteer: %s\n", err != NULL ? err->message : strerror(errno));
        goto out;
    }
    if ((hash = hash_new_password()) == NULL)
        goto out;
    text = (char *)mt_file_read(path, 1 << 20, &len, &err);
    if (text == NULL) {
        fprintf(stderr, "muleteer: %s\n", err->message);
        goto out;
    }
    updated = with_password(text, len, hash, &new_len);
    /* What we write must load (it does, unless the file changed since). */
    conf_t *check = conf_new();
    int loaded = conf_load_string(check, updated, path, &err);
    conf_free(check);
    if (loaded != 0) {
        fprintf(stderr, "muleteer: %s\n", err->message);
        goto out;
    }
    mode = st.st_mode & 07777;
    if (mt_file_write_atomic(path, updated, new_len, mode, &err) != 0) {
        fprintf(stderr, "muleteer: %s\n", err->message);
        goto out;
    }
    /* The new file is ours: give it the old one's mode (umask may have
     * narrowed it) and, as root, its owner, or the services that run as
     * another user could no longer read it. */
    if (chmod(path, mode) != 0)
        fprintf(stderr, "muleteer: warning: chmod %s: %s\n", path, strerror(errno));
    if ((st.st_uid != geteuid() || st.st_gid != getegid()) &&
        chown(path, st.st_uid, st.st_gid) != 0)
        fprintf(stderr, "muleteer: warning: %s now belongs to you, not to uid %u: %s\n", path,
                (unsigned)st.st_uid, strerror(errno));

    /* run.sh's copy of the first password is no longer the password. */
    pwfile = xasprintf("%s/web-password", conf_get_str(conf, "state_dir"));
    if (unlink(pwfile) != 0 && errno != ENOENT)
        fprintf(stderr, "muleteer: warning: cannot remove %s: %s\n", pwfile, strerror(errno));
    printf("web_password changed in %s\n"
           "The web programs read it when they start: restart Muleteer (./run.sh) to use it.\n",
           path);
    status = 0;
out:
    mt_error_free(err);
    conf_free(conf);
    free(path);
    free(hash);
    free(text);
    free(updated);
    free(pwfile);
    return status;
}
