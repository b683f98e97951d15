/*
 * jdoc.h: a model file (JSON or UBJSON) read into a read-only tree, with hard
 * bounds, for loaders that must survive hostile files.
 *
 * The reader follows XGBoost's reading of numbers, since XGBoost model files
 * are what it reads: a JSON number with a fraction or an exponent is a float32
 * (correctly rounded from its text, as XGBoost's from_chars/strtof do), one
 * without is an int64; NaN, Infinity and -Infinity are accepted as floats
 * (XGBoost writes them). UBJSON follows the spec (draft 12) as XGBoost writes
 * it: big-endian scalars, keys with any integer length marker, counted ('#')
 * and typed ('$') arrays of numbers, counted objects; 'H' and typed arrays of
 * anything but numbers are refused.
 *
 * Arrays whose items are all numbers of one kind (ints, floats, booleans) are
 * stored packed (4 or 8 bytes an item), so a 100 MB model costs about its own
 * size in memory. Every index, length and count is checked against the input
 * before use; nesting is limited to JDOC_MAX_DEPTH and the memory the tree may
 * use to JDOC_MEMORY_FACTOR times the input plus 1 MiB. A failure is an error
 * message naming the byte offset, never a crash or a read outside the input.
 *
 * Reentrant; a parsed document is immutable and may be read by any thread.
 */
#ifndef RUNTIME_ENGINES_JDOC_H
#define RUNTIME_ENGINES_JDOC_H

#include <stddef.h>
#include <stdint.h>

#define JDOC_MAX_DEPTH 64
#define JDOC_MEMORY_FACTOR 4

enum jdoc_type {
	JDOC_NULL,
	JDOC_BOOL,
	JDOC_INT,
	JDOC_FLOAT, /* float32 (JSON, UBJSON 'd') or float64 (UBJSON 'D') */
	JDOC_STRING,
	JDOC_ARRAY, /* items are values (jdoc_at), or packed numbers (jdoc_numbers) */
	JDOC_OBJECT,
};

struct jdoc;
struct jdoc_value;

/* Parses JSON or UBJSON (told apart by the bytes after the first '{' or '[').
 * The document does not point into buf afterwards. NULL with a message in
 * why (at most why_size bytes) on any error. */
struct jdoc *jdoc_parse(const void *buf, size_t len, char *why, size_t why_size);
void jdoc_free(struct jdoc *d); /* NULL is a no-op */

/* 1 when buf looks like JSON or UBJSON (an object or array first), else 0:
 * other formats (XGBoost's legacy binary) are not this reader's. */
int jdoc_sniff(const void *buf, size_t len);

const struct jdoc_value *jdoc_root(const struct jdoc *d);
enum jdoc_type jdoc_type(const struct jdoc_value *v);

/* Member `key` of an object, or NULL (absent, or v is not an object, or NULL). */
const struct jdoc_value *jdoc_get(const struct jdoc *d, const struct jdoc_value *v,
				  const char *key);
/* Items of an array, members of an object, bytes of a string; 0 otherwise. */
size_t jdoc_len(const struct jdoc_value *v);
/* Item i of an array of values (not packed), or NULL. */
const struct jdoc_value *jdoc_at(const struct jdoc *d, const struct jdoc_value *v, size_t i);

/* A string's bytes (not NUL-terminated) and length; NULL when v is not a string. */
const char *jdoc_str(const struct jdoc *d, const struct jdoc_value *v, size_t *len);
/* 1 when v is the string s. */
int jdoc_is(const struct jdoc *d, const struct jdoc_value *v, const char *s);

/* Scalars: 0, or -1 when v is not of a convertible kind. jdoc_int takes ints
 * and booleans; jdoc_float32 takes floats (float64 rounded) and ints. */
int jdoc_int(const struct jdoc_value *v, int64_t *out);
int jdoc_float32(const struct jdoc_value *v, float *out);

/* Arrays of numbers, packed or not, copied out as n items: 0, or -1 when v is
 * not an array of n items of the kind. Ints read as int64 (booleans as 0/1);
 * floats as float32 (ints converted, float64 rounded). */
int jdoc_ints(const struct jdoc *d, const struct jdoc_value *v, int64_t *out, size_t n);
int jdoc_floats(const struct jdoc *d, const struct jdoc_value *v, float *out, size_t n);

/* Reads a float32 from text as XGBoost does (correctly rounded, "C" locale):
 * the decimal number at s[0..n) (JSON grammar, or NaN / Infinity / -Infinity).
 * 0, or -1 when s is not one number. */
int jdoc_text_float32(const char *s, size_t n, float *out);

#endif
