/* user.h: `muleteer user add|remove|passwd|list`: the web API's user
 * accounts, written straight into PostgreSQL (web_users), without the
 * daemon. */
#ifndef MT_CLI_USER_H
#define MT_CLI_USER_H

/* user_command: the subcommand and its arguments (av, nargs of them):
 *   add NAME [--admin] [--caps LIST]   (the password comes on stdin)
 *   remove NAME
 *   passwd NAME                        (the password comes on stdin)
 *   api-key NAME                       (prints a new API key)
 *   list
 * The database is the configuration's (database in $MULETEER_CONF, else
 * $MULETEER_VAR/muleteer.conf, else var/muleteer.conf). Returns the exit
 * status: 0, 1 after a message (no such user, the database failed), 2
 * for a usage error. */
int user_command(int nargs, char **av);

#endif
