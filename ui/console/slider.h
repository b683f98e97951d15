/*
 * slider.h: traffic-split arithmetic for the Deployments screen. Pure
 * functions on arrays of integer percentages; any thread.
 *
 * The rule (docs/console.md "Traffic sliders"):
 *  - Live shares are integers 0..100 whose sum is 100, or all 0 (Azure's rule).
 *  - Moving deployment i by delta clamps its new share to [0, 100]. The
 *    difference is taken from / given to the other deployments in proportion
 *    to their current shares (largest-remainder rounding; ties go to the lower
 *    index), so their ratios are kept. When the others all hold 0 and must
 *    receive, they share it equally (remainder to the lower indices).
 *  - From the all-zero state an increase gives the selected deployment 100;
 *    a single deployment moves only between 0 and 100.
 *  - Mirror: at most one deployment, 0..50, only one with 0 live traffic.
 */
#ifndef UI_CONSOLE_SLIDER_H
#define UI_CONSOLE_SLIDER_H

#define SLIDER_MAX_MIRROR 50

/* Sum of the n shares. */
int slider_sum(const int *v, int n);
/* 1 when v is a valid live split (each 0..100, sum 100 or all 0). */
int slider_valid(const int *v, int n);
/* Brings any split back to a valid one: negatives to 0, then scaled to sum
 * 100 (largest remainder) unless all are 0. */
void slider_normalize(int *v, int n);
/* Moves v[i] by delta following the rule above; v must be valid (it is
 * normalized first). Returns the change actually applied to v[i]. */
int slider_move(int *v, int n, int i, int delta);
/*
 * Mirror share of deployment i moved by delta within 0..SLIDER_MAX_MIRROR.
 * Any other deployment's mirror share is set to 0 (one mirror target). -1 and
 * nothing changed when live[i] > 0 and the result would be above 0.
 */
int slider_mirror_move(int *mirror, const int *live, int n, int i, int delta);

#endif
