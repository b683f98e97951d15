/*
 * civil.h: proleptic Gregorian calendar arithmetic on day numbers (days since
 * 1970-01-01) and wall-clock seconds, for time zones and schedules (H.
 * Hinnant's algorithms: exact over any int64 range a calendar needs). Pure.
 */
#ifndef STATE_CIVIL_H
#define STATE_CIVIL_H

#include <stdint.h>

int64_t civil_days(int64_t y, int m, int d);                       /* m 1-12, d 1-31 */
void civil_from_days(int64_t days, int64_t *y, int *m, int *d);
int civil_weekday(int64_t days);                                   /* 0 Sunday .. 6 Saturday */
int civil_is_leap(int64_t y);
int civil_month_days(int64_t y, int m);
int64_t civil_floor_div(int64_t a, int64_t b);                     /* b > 0 */
/* "YYYY-MM-DDTHH:MM:SS" (fraction and offset ignored) into buf (>= 20). */
void civil_format(int64_t secs, char *buf, unsigned long len);

#endif
