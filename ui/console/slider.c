/* slider.c: traffic-split arithmetic (rule in slider.h). */
#include "ui/console/slider.h"

int slider_sum(const int *v, int n)
{
	int s = 0;

	for (int i = 0; i < n; i++)
		s += v[i];
	return s;
}

int slider_valid(const int *v, int n)
{
	int s = 0;

	for (int i = 0; i < n; i++) {
		if (v[i] < 0 || v[i] > 100)
			return 0;
		s += v[i];
	}
	return s == 0 || s == 100;
}

/* Distributes total over the slots of mask (skip = -1 for none) in
 * proportion to weight[], largest remainder first, ties to the lower index.
 * When all weights are 0 the slots share equally. */
static void distribute(int *v, const int *weight, int n, int skip, int total)
{
	long wsum = 0;
	int given = 0, slots = 0;
	long rem[64];

	for (int j = 0; j < n; j++) {
		if (j == skip)
			continue;
		wsum += weight[j];
		slots++;
	}
	if (slots == 0)
		return;
	for (int j = 0; j < n && j < 64; j++) {
		long w = wsum > 0 ? weight[j] : 1;
		long ws = wsum > 0 ? wsum : slots;

		if (j == skip)
			continue;
		v[j] = (int)(w * total / ws);
		rem[j] = w * total % ws;
		given += v[j];
	}
	while (given < total) {
		int best = -1;

		for (int j = 0; j < n && j < 64; j++)
			if (j != skip && (best < 0 || rem[j] > rem[best]))
				best = j;
		v[best]++;
		rem[best] = -1;
		given++;
	}
}

void slider_normalize(int *v, int n)
{
	int w[64];
	int s;

	if (n <= 0 || n > 64)
		return;
	for (int i = 0; i < n; i++)
		if (v[i] < 0)
			v[i] = 0;
	s = slider_sum(v, n);
	if (s == 0 || s == 100)
		return;
	for (int i = 0; i < n; i++)
		w[i] = v[i];
	distribute(v, w, n, -1, 100);
}

int slider_move(int *v, int n, int i, int delta)
{
	int w[64];
	int old, target;

	if (n <= 0 || n > 64 || i < 0 || i >= n || delta == 0)
		return 0;
	slider_normalize(v, n);
	old = v[i];
	if (slider_sum(v, n) == 0) {
		if (delta < 0)
			return 0;
		v[i] = 100;
		return 100;
	}
	if (n == 1) {
		v[0] = delta < 0 ? 0 : 100;
		return v[0] - old;
	}
	target = old + delta;
	if (target < 0)
		target = 0;
	if (target > 100)
		target = 100;
	for (int j = 0; j < n; j++)
		w[j] = v[j];
	v[i] = target;
	distribute(v, w, n, i, 100 - target);
	return target - old;
}

int slider_mirror_move(int *mirror, const int *live, int n, int i, int delta)
{
	int target;

	if (n <= 0 || i < 0 || i >= n)
		return -1;
	target = mirror[i] + delta;
	if (target < 0)
		target = 0;
	if (target > SLIDER_MAX_MIRROR)
		target = SLIDER_MAX_MIRROR;
	if (target > 0 && live[i] > 0)
		return -1;
	for (int j = 0; j < n; j++)
		mirror[j] = 0;
	mirror[i] = target;
	return 0;
}
