/*
 * tz.c: Windows zone names to IANA names, and TZif zone files (RFC 8536).
 *
 * Before the first transition the first time type applies (RFC 8536 3.2);
 * after the last one, the footer's POSIX TZ rule when there is one, else the
 * last transition's type.
 */
#include "state/tz.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "state/civil.h"

#define TZ_TRANSITIONS_MAX 10000
#define TZ_TYPES_MAX 256

/* CLDR windowsZones.xml, territory "001". */
static const struct {
	const char *windows, *iana;
} windows_zones[] = {
    {"Dateline Standard Time", "Etc/GMT+12"},
    {"UTC-11", "Etc/GMT+11"},
    {"Aleutian Standard Time", "America/Adak"},
    {"Hawaiian Standard Time", "Pacific/Honolulu"},
    {"Marquesas Standard Time", "Pacific/Marquesas"},
    {"Alaskan Standard Time", "America/Anchorage"},
    {"UTC-09", "Etc/GMT+9"},
    {"Pacific Standard Time (Mexico)", "America/Tijuana"},
    {"UTC-08", "Etc/GMT+8"},
    {"Pacific Standard Time", "America/Los_Angeles"},
    {"US Mountain Standard Time", "America/Phoenix"},
    {"Mountain Standard Time (Mexico)", "America/Mazatlan"},
    {"Mountain Standard Time", "America/Denver"},
    {"Yukon Standard Time", "America/Whitehorse"},
    {"Central America Standard Time", "America/Guatemala"},
    {"Central Standard Time", "America/Chicago"},
    {"Easter Island Standard Time", "Pacific/Easter"},
    {"Central Standard Time (Mexico)", "America/Mexico_City"},
    {"Canada Central Standard Time", "America/Regina"},
    {"SA Pacific Standard Time", "America/Bogota"},
    {"Eastern Standard Time (Mexico)", "America/Cancun"},
    {"Eastern Standard Time", "America/New_York"},
    {"Haiti Standard Time", "America/Port-au-Prince"},
    {"Cuba Standard Time", "America/Havana"},
    {"US Eastern Standard Time", "America/Indiana/Indianapolis"},
    {"Turks And Caicos Standard Time", "America/Grand_Turk"},
    {"Paraguay Standard Time", "America/Asuncion"},
    {"Atlantic Standard Time", "America/Halifax"},
    {"Venezuela Standard Time", "America/Caracas"},
    {"Central Brazilian Standard Time", "America/Cuiaba"},
    {"SA Western Standard Time", "America/La_Paz"},
    {"Pacific SA Standard Time", "America/Santiago"},
    {"Newfoundland Standard Time", "America/St_Johns"},
    {"Tocantins Standard Time", "America/Araguaina"},
    {"E. South America Standard Time", "America/Sao_Paulo"},
    {"SA Eastern Standard Time", "America/Cayenne"},
    {"Argentina Standard Time", "America/Argentina/Buenos_Aires"},
    {"Greenland Standard Time", "America/Nuuk"},
    {"Montevideo Standard Time", "America/Montevideo"},
    {"Magallanes Standard Time", "America/Punta_Arenas"},
    {"Saint Pierre Standard Time", "America/Miquelon"},
    {"Bahia Standard Time", "America/Bahia"},
    {"UTC-02", "Etc/GMT+2"},
    {"Mid-Atlantic Standard Time", "Etc/GMT+2"},
    {"Azores Standard Time", "Atlantic/Azores"},
    {"Cape Verde Standard Time", "Atlantic/Cape_Verde"},
    {"UTC", "UTC"},
    {"Coordinated Universal Time", "UTC"},
    {"GMT Standard Time", "Europe/London"},
    {"Greenwich Standard Time", "Atlantic/Reykjavik"},
    {"Sao Tome Standard Time", "Africa/Sao_Tome"},
    {"Morocco Standard Time", "Africa/Casablanca"},
    {"W. Europe Standard Time", "Europe/Berlin"},
    {"Central Europe Standard Time", "Europe/Budapest"},
    {"Romance Standard Time", "Europe/Paris"},
    {"Central European Standard Time", "Europe/Warsaw"},
    {"W. Central Africa Standard Time", "Africa/Lagos"},
    {"Jordan Standard Time", "Asia/Amman"},
    {"GTB Standard Time", "Europe/Bucharest"},
    {"Middle East Standard Time", "Asia/Beirut"},
    {"Egypt Standard Time", "Africa/Cairo"},
    {"E. Europe Standard Time", "Europe/Chisinau"},
    {"Syria Standard Time", "Asia/Damascus"},
    {"West Bank Standard Time", "Asia/Hebron"},
    {"South Africa Standard Time", "Africa/Johannesburg"},
    {"FLE Standard Time", "Europe/Kyiv"},
    {"Israel Standard Time", "Asia/Jerusalem"},
    {"South Sudan Standard Time", "Africa/Juba"},
    {"Kaliningrad Standard Time", "Europe/Kaliningrad"},
    {"Sudan Standard Time", "Africa/Khartoum"},
    {"Libya Standard Time", "Africa/Tripoli"},
    {"Namibia Standard Time", "Africa/Windhoek"},
    {"Arabic Standard Time", "Asia/Baghdad"},
    {"Turkey Standard Time", "Europe/Istanbul"},
    {"Arab Standard Time", "Asia/Riyadh"},
    {"Belarus Standard Time", "Europe/Minsk"},
    {"Russian Standard Time", "Europe/Moscow"},
    {"E. Africa Standard Time", "Africa/Nairobi"},
    {"Volgograd Standard Time", "Europe/Volgograd"},
    {"Iran Standard Time", "Asia/Tehran"},
    {"Arabian Standard Time", "Asia/Dubai"},
    {"Astrakhan Standard Time", "Europe/Astrakhan"},
    {"Azerbaijan Standard Time", "Asia/Baku"},
    {"Russia Time Zone 3", "Europe/Samara"},
    {"Mauritius Standard Time", "Indian/Mauritius"},
    {"Saratov Standard Time", "Europe/Saratov"},
    {"Georgian Standard Time", "Asia/Tbilisi"},
    {"Caucasus Standard Time", "Asia/Yerevan"},
    {"Afghanistan Standard Time", "Asia/Kabul"},
    {"West Asia Standard Time", "Asia/Tashkent"},
    {"Ekaterinburg Standard Time", "Asia/Yekaterinburg"},
    {"Pakistan Standard Time", "Asia/Karachi"},
    {"Qyzylorda Standard Time", "Asia/Qyzylorda"},
    {"India Standard Time", "Asia/Kolkata"},
    {"Sri Lanka Standard Time", "Asia/Colombo"},
    {"Nepal Standard Time", "Asia/Kathmandu"},
    {"Central Asia Standard Time", "Asia/Almaty"},
    {"Bangladesh Standard Time", "Asia/Dhaka"},
    {"Omsk Standard Time", "Asia/Omsk"},
    {"Myanmar Standard Time", "Asia/Yangon"},
    {"SE Asia Standard Time", "Asia/Bangkok"},
    {"Altai Standard Time", "Asia/Barnaul"},
    {"W. Mongolia Standard Time", "Asia/Hovd"},
    {"North Asia Standard Time", "Asia/Krasnoyarsk"},
    {"N. Central Asia Standard Time", "Asia/Novosibirsk"},
    {"Tomsk Standard Time", "Asia/Tomsk"},
    {"China Standard Time", "Asia/Shanghai"},
    {"North Asia East Standard Time", "Asia/Irkutsk"},
    {"Singapore Standard Time", "Asia/Singapore"},
    {"W. Australia Standard Time", "Australia/Perth"},
    {"Taipei Standard Time", "Asia/Taipei"},
    {"Ulaanbaatar Standard Time", "Asia/Ulaanbaatar"},
    {"Aus Central W. Standard Time", "Australia/Eucla"},
    {"Transbaikal Standard Time", "Asia/Chita"},
    {"Tokyo Standard Time", "Asia/Tokyo"},
    {"North Korea Standard Time", "Asia/Pyongyang"},
    {"Korea Standard Time", "Asia/Seoul"},
    {"Yakutsk Standard Time", "Asia/Yakutsk"},
    {"Cen. Australia Standard Time", "Australia/Adelaide"},
    {"AUS Central Standard Time", "Australia/Darwin"},
    {"E. Australia Standard Time", "Australia/Brisbane"},
    {"AUS Eastern Standard Time", "Australia/Sydney"},
    {"West Pacific Standard Time", "Pacific/Port_Moresby"},
    {"Tasmania Standard Time", "Australia/Hobart"},
    {"Vladivostok Standard Time", "Asia/Vladivostok"},
    {"Lord Howe Standard Time", "Australia/Lord_Howe"},
    {"Bougainville Standard Time", "Pacific/Bougainville"},
    {"Russia Time Zone 10", "Asia/Srednekolymsk"},
    {"Magadan Standard Time", "Asia/Magadan"},
    {"Norfolk Standard Time", "Pacific/Norfolk"},
    {"Sakhalin Standard Time", "Asia/Sakhalin"},
    {"Central Pacific Standard Time", "Pacific/Guadalcanal"},
    {"Russia Time Zone 11", "Asia/Kamchatka"},
    {"New Zealand Standard Time", "Pacific/Auckland"},
    {"UTC+12", "Etc/GMT-12"},
    {"Fiji Standard Time", "Pacific/Fiji"},
    {"Kamchatka Standard Time", "Asia/Kamchatka"},
    {"Chatham Islands Standard Time", "Pacific/Chatham"},
    {"UTC+13", "Etc/GMT-13"},
    {"Tonga Standard Time", "Pacific/Tongatapu"},
    {"Samoa Standard Time", "Pacific/Apia"},
    {"Line Islands Standard Time", "Pacific/Kiritimati"},
};

#define NZONES (sizeof windows_zones / sizeof windows_zones[0])

static int iana_shape(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > TZ_NAME_MAX || s[0] == '/' || s[n - 1] == '/' || strstr(s, "..") ||
	    strstr(s, "//"))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '+' || c == '/'))
			return 0;
	}
	return 1;
}

const char *tz_iana(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < NZONES; i++)
		if (strcasecmp(windows_zones[i].windows, name) == 0)
			return windows_zones[i].iana;
	if (strcasecmp(name, "Etc/UTC") == 0 || strcasecmp(name, "GMT") == 0 ||
	    strcasecmp(name, "Z") == 0)
		return "UTC";
	return iana_shape(name) ? name : NULL;
}

int tz_windows_at(size_t i, const char **windows, const char **iana)
{
	if (i >= NZONES)
		return -1;
	*windows = windows_zones[i].windows;
	*iana = windows_zones[i].iana;
	return 0;
}

/* ---- the POSIX TZ footer ------------------------------------------------ */

struct posix_rule {
	char kind; /* 'J' (1-365, no Feb 29), 'N' (0-365), 'M' (month.week.day) */
	int day, week, month;
	long time; /* seconds after local midnight, may be negative or past 24 h */
};

struct posix_tz {
	long std_off, dst_off; /* seconds east of UTC */
	int has_dst;
	struct posix_rule start, end;
};

static const char *posix_name(const char *s)
{
	const char *p = s;

	if (*p == '<') {
		while (*p && *p != '>')
			p++;
		return *p == '>' && p - s >= 4 ? p + 1 : NULL;
	}
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
		p++;
	return p - s >= 3 ? p : NULL;
}

/* [+-]h[hh][:mm[:ss]] -> seconds; NULL when malformed. */
static const char *posix_hms(const char *s, long max_h, long *out)
{
	long sign = 1, h = 0, m = 0, sec = 0;
	int digits = 0;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	while (*s >= '0' && *s <= '9' && digits < 3) {
		h = h * 10 + (*s++ - '0');
		digits++;
	}
	if (digits == 0 || h > max_h)
		return NULL;
	if (*s == ':') {
		if (!(s[1] >= '0' && s[1] <= '5' && s[2] >= '0' && s[2] <= '9'))
			return NULL;
		m = (s[1] - '0') * 10 + (s[2] - '0');
		s += 3;
		if (*s == ':') {
			if (!(s[1] >= '0' && s[1] <= '5' && s[2] >= '0' && s[2] <= '9'))
				return NULL;
			sec = (s[1] - '0') * 10 + (s[2] - '0');
			s += 3;
		}
	}
	*out = sign * (h * 3600 + m * 60 + sec);
	return s;
}

static const char *posix_int(const char *s, int min, int max, int *out)
{
	int v = 0, digits = 0;

	while (*s >= '0' && *s <= '9' && digits < 4) {
		v = v * 10 + (*s++ - '0');
		digits++;
	}
	if (digits == 0 || v < min || v > max)
		return NULL;
	*out = v;
	return s;
}

static const char *posix_date(const char *s, struct posix_rule *r)
{
	r->time = 7200;
	if (*s == 'J') {
		r->kind = 'J';
		s = posix_int(s + 1, 1, 365, &r->day);
	} else if (*s == 'M') {
		r->kind = 'M';
		s = posix_int(s + 1, 1, 12, &r->month);
		if (s == NULL || *s++ != '.' || (s = posix_int(s, 1, 5, &r->week)) == NULL ||
		    *s++ != '.')
			return NULL;
		s = posix_int(s, 0, 6, &r->day);
	} else {
		r->kind = 'N';
		s = posix_int(s, 0, 365, &r->day);
	}
	if (s != NULL && *s == '/')
		s = posix_hms(s + 1, 167, &r->time);
	return s;
}

static int posix_parse(const char *s, struct posix_tz *p)
{
	long off;

	memset(p, 0, sizeof *p);
	if ((s = posix_name(s)) == NULL || (s = posix_hms(s, 24, &off)) == NULL)
		return -1;
	p->std_off = -off;
	if (*s == '\0')
		return 0;
	if ((s = posix_name(s)) == NULL)
		return -1;
	p->has_dst = 1;
	p->dst_off = p->std_off + 3600;
	if (*s != ',' && *s != '\0') {
		if ((s = posix_hms(s, 24, &off)) == NULL)
			return -1;
		p->dst_off = -off;
	}
	if (*s != ',') /* no rule: the US rule POSIX implies is not worth guessing */
		return -1;
	if ((s = posix_date(s + 1, &p->start)) == NULL || *s != ',' ||
	    (s = posix_date(s + 1, &p->end)) == NULL)
		return -1;
	return *s == '\0' ? 0 : -1;
}

/* The day (since the epoch) a rule names in year y. */
static int64_t rule_day(const struct posix_rule *r, int64_t y)
{
	int64_t first, d;
	int wd;

	if (r->kind == 'J')
		return civil_days(y, 1, 1) + r->day - 1 + (civil_is_leap(y) && r->day >= 60);
	if (r->kind == 'N')
		return civil_days(y, 1, 1) + r->day;
	first = civil_days(y, r->month, 1);
	wd = civil_weekday(first);
	d = first + (r->day - wd + 7) % 7 + 7 * (r->week - 1);
	while (d >= first + civil_month_days(y, r->month))
		d -= 7;
	return d;
}

static long posix_offset(const struct posix_tz *p, int64_t t)
{
	int64_t y, start, end;
	int dst, m, d;

	if (!p->has_dst)
		return p->std_off;
	civil_from_days(civil_floor_div(t + p->std_off, 86400), &y, &m, &d);
	start = rule_day(&p->start, y) * 86400 + p->start.time - p->std_off;
	end = rule_day(&p->end, y) * 86400 + p->end.time - p->dst_off;
	if (start < end)
		dst = t >= start && t < end;
	else
		dst = !(t >= end && t < start);
	return dst ? p->dst_off : p->std_off;
}

/* ---- TZif --------------------------------------------------------------- */

struct tz {
	size_t n;		  /* transitions */
	int64_t *times;		  /* UTC, ascending */
	unsigned char *idx;	  /* type after each transition */
	size_t ntypes;
	long offs[TZ_TYPES_MAX];  /* seconds east of UTC, per type */
	int has_posix;
	struct posix_tz posix;
};

struct reader {
	const unsigned char *p;
	size_t left;
};

static int take(struct reader *r, size_t n, const unsigned char **out)
{
	if (r->left < n)
		return -1;
	*out = r->p;
	r->p += n;
	r->left -= n;
	return 0;
}

static int64_t be(const unsigned char *p, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	if (bytes == 4)
		return (int32_t)(uint32_t)v;
	return (int64_t)v;
}

struct tzif_counts {
	size_t isut, isstd, leap, time, type, chars;
};

static int tzif_header(struct reader *r, char *version, struct tzif_counts *c)
{
	const unsigned char *h;

	if (take(r, 44, &h) < 0 || memcmp(h, "TZif", 4) != 0)
		return -1;
	*version = (char)h[4];
	c->isut = (size_t)be(h + 20, 4);
	c->isstd = (size_t)be(h + 24, 4);
	c->leap = (size_t)be(h + 28, 4);
	c->time = (size_t)be(h + 32, 4);
	c->type = (size_t)be(h + 36, 4);
	c->chars = (size_t)be(h + 40, 4);
	if (c->time > TZ_TRANSITIONS_MAX || c->type == 0 || c->type > TZ_TYPES_MAX ||
	    c->leap > TZ_TRANSITIONS_MAX || c->chars > 65536 ||
	    (c->isut != 0 && c->isut != c->type) || (c->isstd != 0 && c->isstd != c->type))
		return -1;
	return 0;
}

static size_t block_size(const struct tzif_counts *c, int tb)
{
	return c->time * (size_t)tb + c->time + c->type * 6 + c->chars +
	       c->leap * (size_t)(tb + 4) + c->isstd + c->isut;
}

/* Reads the data block (tb: bytes per time, 4 or 8) into z. */
static int tzif_block(struct reader *r, const struct tzif_counts *c, int tb, struct tz *z)
{
	const unsigned char *times, *idx, *types, *rest;

	if (take(r, c->time * (size_t)tb, &times) < 0 || take(r, c->time, &idx) < 0 ||
	    take(r, c->type * 6, &types) < 0 ||
	    take(r, c->chars + c->leap * (size_t)(tb + 4) + c->isstd + c->isut, &rest) < 0)
		return -1;
	z->n = c->time;
	z->times = calloc(c->time + 1, sizeof *z->times);
	z->idx = calloc(c->time + 1, 1);
	if (z->times == NULL || z->idx == NULL)
		return -1;
	for (size_t i = 0; i < c->time; i++) {
		z->times[i] = be(times + i * (size_t)tb, tb);
		z->idx[i] = idx[i];
		if (idx[i] >= c->type || (i > 0 && z->times[i] <= z->times[i - 1]))
			return -1;
	}
	z->ntypes = c->type;
	for (size_t i = 0; i < c->type; i++) {
		z->offs[i] = (long)be(types + i * 6, 4);
		if (z->offs[i] < -89999 || z->offs[i] > 93599)
			return -1;
	}
	return 0;
}

static int tzif_footer(struct reader *r, struct tz *z)
{
	char buf[128];
	size_t n = 0;

	if (r->left == 0 || r->p[0] != '\n')
		return 0; /* no footer: the last type holds */
	for (n = 1; n < r->left && r->p[n] != '\n'; n++)
		;
	if (n >= r->left || n - 1 >= sizeof buf)
		return -1;
	memcpy(buf, r->p + 1, n - 1);
	buf[n - 1] = '\0';
	if (buf[0] == '\0')
		return 0;
	if (posix_parse(buf, &z->posix) < 0)
		return -1;
	z->has_posix = 1;
	return 0;
}

static int tzif_read(struct reader *r, struct tz *z)
{
	struct tzif_counts c;
	const unsigned char *skip;
	char version;

	if (tzif_header(r, &version, &c) < 0)
		return -1;
	if (version == '\0')
		return tzif_block(r, &c, 4, z);
	if (take(r, block_size(&c, 4), &skip) < 0 || tzif_header(r, &version, &c) < 0 ||
	    tzif_block(r, &c, 8, z) < 0)
		return -1;
	return tzif_footer(r, z);
}

struct tz *tz_parse(const unsigned char *data, size_t len, struct error *err)
{
	struct reader r = {data, len};
	struct tz *z = calloc(1, sizeof *z);

	if (z == NULL) {
		error_set(err, 500, "InternalError", "out of memory");
		return NULL;
	}
	if (tzif_read(&r, z) < 0) {
		tz_free(z);
		error_set(err, 400, "InvalidTimeZone", "not a valid zoneinfo (TZif) file");
		return NULL;
	}
	return z;
}

struct tz *tz_utc(void)
{
	struct tz *z = calloc(1, sizeof *z);

	if (z != NULL)
		z->ntypes = 1;
	return z;
}

void tz_free(struct tz *z)
{
	if (z == NULL)
		return;
	free(z->times);
	free(z->idx);
	free(z);
}

long tz_offset(const struct tz *z, int64_t t)
{
	size_t lo = 0, hi = z->n;

	if (z->n == 0 || t < z->times[0])
		return z->n == 0 && z->has_posix ? posix_offset(&z->posix, t) : z->offs[0];
	if (t >= z->times[z->n - 1] && z->has_posix)
		return posix_offset(&z->posix, t);
	while (hi - lo > 1) { /* the last transition at or before t */
		size_t mid = lo + (hi - lo) / 2;

		if (z->times[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return z->offs[z->idx[lo]];
}

int64_t tz_to_local(const struct tz *z, int64_t t)
{
	return t + tz_offset(z, t);
}

int64_t tz_to_utc(const struct tz *z, int64_t local)
{
	long cand[3] = {tz_offset(z, local - 86400), tz_offset(z, local),
			tz_offset(z, local + 86400)};
	int64_t best = 0;
	int found = 0;

	for (int i = 0; i < 3; i++) {
		int64_t u = local - cand[i];

		if (tz_offset(z, u) == cand[i] && (!found || u < best)) {
			best = u;
			found = 1;
		}
	}
	return found ? best : local - cand[0]; /* in a gap: as if the jump had not happened */
}
