/*
 * dirlock.h: one process at a time on a mirror's DIR.
 *
 * A live mirror, a --replay-only run and an offline `mojimctl promote` all
 * write DIR's state, rings and replica; two at once corrupt it (one zeroes
 * a half-received batch the other then acknowledges). Each takes an
 * exclusive flock on DIR/lock before it reads anything and holds it until
 * it exits (the kernel drops it even on SIGKILL); the holder writes its pid
 * and name into the file so a refusal can name it.
 */
#ifndef MIRROR_DIRLOCK_H
#define MIRROR_DIRLOCK_H

/*
 * Locks dir (which must exist). Returns the lock's fd (keep it open), or
 * a negative errno: -EBUSY when another process holds it, with *why
 * saying which ("DIR is in use by mojim-mirror pid N").
 */
int dirlock_take(const char *dir, const char **why);

#endif
