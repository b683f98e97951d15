/*
 * tz.h: time zones for schedules. Azure names a schedule's zone the Windows
 * way ("Pacific Standard Time", "UTC"); tz_iana maps those names to the IANA
 * zones of /usr/share/zoneinfo with CLDR's windowsZones table (territory
 * "001"), and takes IANA names as they are. tz_parse reads a zone file
 * (TZif, RFC 8536, versions 1-4, with its POSIX TZ footer for times past
 * the last transition), so local times convert without the process-wide TZ
 * that localtime() and mktime() depend on.
 *
 * Pure: the caller reads the file. A struct tz is immutable once parsed and
 * may be shared between threads.
 */
#ifndef STATE_TZ_H
#define STATE_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "state/error.h"

#define TZ_NAME_MAX 64

struct tz;

/* The IANA name for NAME: a Windows zone name (case-insensitive), "UTC" for
 * UTC and its spellings, or NAME itself when it has the shape of an IANA name
 * (letters, digits, '_', '-', '+', and '/' between parts; no "..", no
 * leading '/'). NULL when it is neither. The string is static or NAME. */
const char *tz_iana(const char *name);
/* The Windows names tz_iana knows, for docs and tests: the i-th pair, or
 * -1 past the end. */
int tz_windows_at(size_t i, const char **windows, const char **iana);

/* Parses a TZif file. NULL with a 400 "InvalidTimeZone" in err when it is
 * not one (or out of memory, 500). */
struct tz *tz_parse(const unsigned char *data, size_t len, struct error *err);
/* UTC itself (no file needed). */
struct tz *tz_utc(void);
void tz_free(struct tz *z); /* NULL is a no-op */

/* Seconds east of UTC in force at UTC instant t. */
long tz_offset(const struct tz *z, int64_t t);
/* The UTC instant of local wall-clock time `local` (seconds since the epoch of
 * that wall clock, read as if it were UTC). A time that occurs twice (the
 * clock goes back) is its first occurrence; one that never occurs (the clock
 * jumps forward) moves forward by the jump. */
int64_t tz_to_utc(const struct tz *z, int64_t local);
/* The local wall-clock time (as above) of UTC instant t. */
int64_t tz_to_local(const struct tz *z, int64_t t);

#endif
