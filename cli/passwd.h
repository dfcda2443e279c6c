/* passwd.h: the muleteer commands that work on the web password without
 * the daemon: hash-password (print a password string) and passwd
 * (change web_password in muleteer.conf). */
#ifndef MT_CLI_PASSWD_H
#define MT_CLI_PASSWD_H

/* passwd_hash_command: reads a password from stdin (one line; on a
 * terminal, asked twice without echo) and prints its
 * "pbkdf2-sha256$..." string. Returns the exit status: 0, or 1 with a
 * message on stderr. */
int passwd_hash_command(void);

/* passwd_change_command: reads a new password like passwd_hash_command,
 * replaces the web_password line of the configuration file
 * ($MULETEER_CONF, else $MULETEER_VAR/muleteer.conf, else
 * var/muleteer.conf) atomically, keeping its other lines, mode and owner,
 * and removes $state_dir/web-password (the first password run.sh kept for
 * its banner). Returns the exit status. */
int passwd_change_command(void);

/* passwd_read_new: a new non-empty password from stdin: one line; on a
 * terminal, asked twice (prompt first) without echo. NULL after a
 * message on stderr. The caller frees it with passwd_free_secret. */
char *passwd_read_new(const char *prompt);
/* passwd_free_secret: wipes and frees s; accepts NULL. */
void passwd_free_secret(char *s);

#endif
