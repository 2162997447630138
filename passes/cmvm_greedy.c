/*
 * cmvm_greedy.c -- shared sub-sum extraction for constant matrices (the
 * da4ml-style greedy), used by cmvm_solve at level CMVM_SHARE.
 *
 * Input: every row as a list of terms (variable, shift, sign), e.g. the CSD
 * digits of its weights.  Two terms (a, sa, ga), (b, sb, gb) of one row form
 * a pair whose pattern is normalised to (a, b, d = sb - sa, g = ga * gb)
 * with (a, sa) < (b, sb); every occurrence of one pattern, in any row and
 * at any shift, is the same sub-sum  (a << max(0,-d)) + g (b << max(0,d))
 * shifted and signed.  The greedy repeatedly takes the pattern with the
 * most occurrences, makes it one new variable (one adder), and replaces
 * every non-overlapping occurrence by one term on it; a pattern with k
 * occurrences saves k - 1 adders.  It stops when no pattern occurs twice.
 *
 * Data structures (all arrays indexed by 32-bit ids, nothing by pointer):
 *   - a hash map from the packed pattern key (a:24, b:24, d:7, g:1) to a
 *     pattern id, with its exact count of pair instances in the current rows;
 *   - bucket lists by count (doubly linked) with a falling top pointer.
 *     Counts only fall after the initial count, so the lists are updated
 *     lazily: a decrement touches only the count, and a pattern listed in
 *     a bucket above its count is moved down when a scan of that bucket
 *     meets it (settle): the most frequent pattern in O(1) amortised;
 *   - the pairs on the variable being extracted (every pair it forms with
 *     the other terms of the rows it enters) in a small separate map: a
 *     pair on a new variable gains no instance later, so after the
 *     extraction only those occurring twice become patterns (on a 192 x
 *     288 Q4 matrix 5,445 of 4.3 M) -- the main map stays ~10x smaller;
 *   - per pattern, a list of rows where an instance was added (may hold
 *     stale rows; they are rescanned and skipped), so an extraction touches
 *     only rows that contain it.  Newest first: the rows added after the
 *     initial count (a linked list in one pool), then those of the initial
 *     count (one contiguous array per pattern, built by a counting sort in
 *     link_all, read backwards: no pointer chasing for the long lists).
 * A pattern's count, list links and occurrence head share one 32-byte
 * record.  The initial count of all pairs only counts; the bucket lists are
 * then built in one go, ordered by each pattern's last instance.
 * Removing two terms from a row of t terms and adding one costs 3t count
 * updates, so the whole run is O(sum over rows of t^2) map operations.
 * Scoring modes (cmvm.h CMVM_TIE_*): SHALLOW -- the top bucket's first
 * PICK_SCAN entries, ties to the smaller max operand depth, then smaller
 * |d|; DEEP --
 * ties to the larger depth (longer shared chains; the default for big
 * matrices, ~0.5% fewer adders on Q4 blocks); WMC -- da4ml's "weighted most
 * common": count x the narrower operand's width (8-bit signed inputs,
 * intervals tracked per variable), buckets scanned from the top down (64
 * entries each) until count x the widest width cannot beat the best.  A
 * seed (mode >> 4, restarts) breaks the remaining ties by a hash of the
 * pattern key.  No choice depends on pointer values or hash order.
 * Depth caps (cmvm.h, cap != NULL): each row keeps the Kraft sum of its
 * terms (sum of 2^depth); an instance is replaced only while the sum stays
 * within the row's cap (half the cap if the row would be left without a
 * positive term: its result then needs a negation), and a picked pattern
 * with fewer than 2 admitted
 * instances is dropped from the lists for good (caps only tighten and old
 * patterns gain no instances).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cmvm.h"

#define NONE UINT32_MAX
/* Patterns of the top bucket compared by SHALLOW / DEEP (was 16; more
 * saves adders on Q4 matrices: 192 x 576 42,312 at 1024, 41,860 at 4096
 * (+17% time), 41,774 at 16384 (+73%); 3072 x 32 -0.45% at 4096). */
#ifndef PICK_SCAN
#define PICK_SCAN 4096
#endif
#define VAR_LIMIT (1u << 24)

/* One pattern: everything a count update touches in one cache line. */
typedef struct Pat {
	uint64_t key;
	uint32_t cnt, prev, next; /* count; its bucket list */
	uint32_t occ, last;   /* occurrence list head; row of the newest entry */
	uint32_t bkt;         /* bucket it is listed in (>= cnt; 0: none) */
} Pat;

typedef struct Occ {      /* occurrence list entry */
	uint32_t row, next;
} Occ;

typedef struct NewPat {  /* a pair on the variable being extracted */
	uint64_t key;
	uint32_t cnt, occ, last;
} NewPat;

typedef struct Greedy {
	Cmvm *p;
	CmvmRow *rows;
	CmvmMap map;          /* pattern key -> pattern id */
	Pat *pat;             /* per pattern */
	uint32_t npat, cappat;
	uint32_t serial;      /* instances counted before link_all */
	Occ *occs;            /* occurrence pool (after the initial count) */
	uint32_t nocc, capocc;
	uint32_t *ipair;      /* initial count: (pattern, row) pairs in order */
	size_t nipair, capipair;
	uint32_t ninit;       /* patterns of the initial count ... */
	uint32_t *ibeg, *iend;/* ... their rows irow[ibeg .. iend), oldest first */
	uint32_t *irow;
	uint32_t *head;       /* bucket heads by count */
	uint32_t caphead, top;
	uint32_t *stamp;      /* per row */
	uint32_t curstamp;
	int mode;             /* CMVM_TIE_* */
	uint64_t seed;        /* tie-break variant (0: list order) */
	uint32_t *vcnt;       /* per variable: its terms in all rows */
	uint32_t capvcnt;
	uint8_t *wid;         /* bits of every variable (8-bit signed inputs) */
	int64_t *lo, *hi;     /* value interval of every variable */
	uint32_t capvar, maxwid;
	const uint64_t *cap;  /* depth mode: per row, bound on the Kraft sum ... */
	uint64_t *kraft;      /* ... sum over its terms of 2^depth (NULL: off) */
	uint8_t *used;        /* depth mode: scratch, one byte per term of a row */
	uint32_t *pos;        /* depth mode: positive terms per row */
	/* pairs of the variable being extracted: counted apart (NewPat) and
	 * moved into the patterns after its extraction only if they occur
	 * twice (a pair on a new variable gains no instances later) */
	CmvmMap nmap;         /* key -> index into npats */
	NewPat *npats;
	uint32_t nnew, capnew;
	Occ *npool;           /* their rows */
	uint32_t nnpool, capnpool;
} Greedy;

static uint64_t pair_key(CmvmTerm x, CmvmTerm y)
{
	if (x.var > y.var || (x.var == y.var && x.shift > y.shift)) {
		CmvmTerm t = x;
		x = y;
		y = t;
	}
	int d = (int)y.shift - (int)x.shift;
	return (uint64_t)x.var << 40 | (uint64_t)y.var << 16 |
	       (uint64_t)(d + 64) << 1 | (uint64_t)(x.sign != y.sign);
}

/* Prefetching (no effect on results): the map and the pattern records are
 * far bigger than the caches and every count update probes each at random,
 * so the loops over a row fetch the map slot of the pair PF_DIST terms
 * ahead and the pattern record of the pair PF_DIST / 2 ahead. */
enum { PF_DIST = 16 };

static inline void pf_slot(const Greedy *g, uint64_t key)
{
	__builtin_prefetch(&g->map.slot[cmvm_map_slot(&g->map, key)]);
}

static inline void pf_pat(const Greedy *g, uint64_t key)
{
	const CmvmSlot *s = &g->map.slot[cmvm_map_slot(&g->map, key)];
	if (s->key == key)
		__builtin_prefetch(&g->pat[s->val], 1);
}

/* Prefetches for the pairs (x, t[k]) of a row's loop at position k. */
static inline void pf_pairs(const Greedy *g, CmvmTerm x, const CmvmTerm *t, uint32_t k, uint32_t n)
{
	if (k + PF_DIST < n)
		pf_slot(g, pair_key(x, t[k + PF_DIST]));
	if (k + PF_DIST / 2 < n)
		pf_pat(g, pair_key(x, t[k + PF_DIST / 2]));
}

static inline void bucket_unlink(Greedy *g, uint32_t id)
{
	uint32_t c = g->pat[id].bkt;
	if (!c)
		return;
	g->pat[id].bkt = 0;
	if (g->pat[id].prev != NONE)
		g->pat[g->pat[id].prev].next = g->pat[id].next;
	else
		g->head[c] = g->pat[id].next;
	if (g->pat[id].next != NONE)
		g->pat[g->pat[id].next].prev = g->pat[id].prev;
}

static __attribute__((noinline)) void head_grow(Greedy *g, uint32_t c)
{
	uint32_t nc = g->caphead * 2;
	while (nc <= c)
		nc *= 2;
	g->head = xrealloc(g->head, nc * sizeof *g->head);
	for (uint32_t i = g->caphead; i < nc; i++)
		g->head[i] = NONE;
	g->caphead = nc;
}

/* Lists pattern id in the bucket of its count (if it occurs twice). */
static inline void bucket_link(Greedy *g, uint32_t id)
{
	uint32_t c = g->pat[id].cnt;
	if (c < 2)
		return;
	g->pat[id].bkt = c;
	if (c >= g->caphead)
		head_grow(g, c);
	g->pat[id].prev = NONE;
	g->pat[id].next = g->head[c];
	if (g->head[c] != NONE)
		g->pat[g->head[c]].prev = id;
	g->head[c] = id;
	if (c > g->top)
		g->top = c;
}

static uint32_t pattern_new(Greedy *g, uint64_t key)
{
	if (g->npat == g->cappat) {
		g->cappat = g->cappat ? 2 * g->cappat : 1024;
		size_t n = g->cappat;
		g->pat = xrealloc(g->pat, n * sizeof *g->pat);
	}
	uint32_t id = g->npat++;
	g->pat[id].key = key;
	g->pat[id].cnt = 0;
	g->pat[id].occ = g->pat[id].last = NONE;
	g->pat[id].bkt = 0;
	return id;
}

/* Counts one more instance of pattern (x, y) in row, in the initial count:
 * the bucket lists are left alone and pat.prev holds the instance's serial
 * number; link_all then builds the lists. */
static void pair_inc(Greedy *g, CmvmTerm x, CmvmTerm y, uint32_t row)
{
	int isnew;
	uint64_t key = pair_key(x, y);
	uint32_t *slot = cmvm_map_get(&g->map, key, g->npat, &isnew);
	uint32_t id = isnew ? pattern_new(g, key) : *slot;
	g->pat[id].cnt++;
	g->pat[id].prev = g->serial++;
	if (g->pat[id].last == row)
		return;
	g->pat[id].last = row;
	if (g->nipair == g->capipair) {
		g->capipair = g->capipair ? 2 * g->capipair : 4096;
		g->ipair = xrealloc(g->ipair, 2 * g->capipair * sizeof *g->ipair);
	}
	g->ipair[2 * g->nipair] = id;
	g->ipair[2 * g->nipair++ + 1] = row;
}

static void occ_push(Occ **pool, uint32_t *n, uint32_t *cap, uint32_t *head, uint32_t row)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 4096;
		*pool = xrealloc(*pool, *cap * sizeof **pool);
	}
	(*pool)[*n] = (Occ){row, *head};
	*head = (*n)++;
}

/* One more instance of pair (x, y) on the variable being extracted. */
static void new_inc(Greedy *g, CmvmTerm x, CmvmTerm y, uint32_t row)
{
	int isnew;
	uint64_t key = pair_key(x, y);
	uint32_t *slot = cmvm_map_get(&g->nmap, key, g->nnew, &isnew);
	if (isnew) {
		if (g->nnew == g->capnew) {
			g->capnew = g->capnew ? 2 * g->capnew : 1024;
			g->npats = xrealloc(g->npats, g->capnew * sizeof *g->npats);
		}
		g->npats[g->nnew++] = (NewPat){key, 0, NONE, NONE};
	}
	NewPat *q = &g->npats[*slot];
	q->cnt++;
	if (q->last != row) {
		q->last = row;
		occ_push(&g->npool, &g->nnpool, &g->capnpool, &q->occ, row);
	}
}

/* After an extraction: the new pairs that occur twice become patterns
 * (in the order they were first seen), the rest are dropped. */
static void new_flush(Greedy *g)
{
	for (uint32_t k = 0; k < g->nnew; k++) {   /* slots to clear */
		uint32_t *slot = cmvm_map_find(&g->nmap, g->npats[k].key);
		g->npats[k].last = (uint32_t)((CmvmSlot *)((char *)slot - offsetof(CmvmSlot, val)) -
		                              g->nmap.slot);
	}
	for (uint32_t k = 0; k < g->nnew; k++) {
		NewPat *q = &g->npats[k];
		g->nmap.slot[q->last].key = 0;
		if (q->cnt < 2)
			continue;
		int isnew;
		uint32_t *ms = cmvm_map_get(&g->map, q->key, g->npat, &isnew);
		if (!isnew)
			die("greedy: new pair seen before");
		uint32_t id = pattern_new(g, q->key);
		g->pat[id].cnt = q->cnt;
		*ms = id;
		for (uint32_t o = q->occ; o != NONE; o = g->npool[o].next)
			occ_push(&g->occs, &g->nocc, &g->capocc, &g->pat[id].occ, g->npool[o].row);
		bucket_link(g, id);
	}
	g->nmap.n = 0;
	g->nnew = g->nnpool = 0;
}

/* One instance less of pattern (x, y); a pair on a variable made after the
 * initial count that occurred only once was never kept (nothing to do). */
static void pair_dec(Greedy *g, CmvmTerm x, CmvmTerm y, uint32_t cur)
{
	uint64_t key = pair_key(x, y);
	if (x.var == cur || y.var == cur) {
		uint32_t *ns = cmvm_map_find(&g->nmap, key);
		if (!ns || !g->npats[*ns].cnt)
			die("greedy: count underflow");
		g->npats[*ns].cnt--;
		return;
	}
	uint32_t *slot = cmvm_map_find(&g->map, key);
	if (!slot)
		return;
	if (!g->pat[*slot].cnt)
		die("greedy: count underflow");
	g->pat[*slot].cnt--;   /* its bucket is corrected lazily (settle) */
}

/* The next pattern listed in bucket c from id on (id NONE: from its head)
 * whose count is c; the stale ones passed over (count fell since) are moved
 * down to the bucket of their count.  NONE when there is none. */
static uint32_t settle(Greedy *g, uint32_t c, uint32_t id)
{
	while (id != NONE && g->pat[id].cnt != c) {
		uint32_t next = g->pat[id].next;
		bucket_unlink(g, id);
		bucket_link(g, id);
		id = next;
	}
	return id;
}

/* Max operand depth of a pattern, inverted for CMVM_TIE_DEEP (smaller is
 * preferred). */
static uint32_t pattern_depth(const Greedy *g, uint64_t key)
{
	uint32_t a = (uint32_t)(key >> 40), b = (uint32_t)(key >> 16) & 0xffffff;
	uint32_t da = g->p->depth[a], db = g->p->depth[b];
	uint32_t dm = da > db ? da : db;
	return g->mode == CMVM_TIE_DEEP ? 0xffff - dm : dm;
}

/* Cost of a pattern for tie-breaking (smaller is better): CMVM_TIE_SHALLOW
 * prefers the smaller max operand depth, CMVM_TIE_DEEP the larger; then the
 * rarer operands (fewer terms on a and b in all rows: such a pair breaks
 * fewer other pairs; -1.1% adders on 128 x 128 Q4, -1.6% on 64 x 64 than
 * the shift distance used before); then, with a seed, a hash of the key. */
static uint64_t pattern_cost(const Greedy *g, uint64_t key)
{
	uint32_t a = (uint32_t)(key >> 40), b = (uint32_t)(key >> 16) & 0xffffff;
	uint64_t f = (uint64_t)g->vcnt[a] + g->vcnt[b];
	uint64_t c = (uint64_t)pattern_depth(g, key) << 20 | (f < 0xfffff ? f : 0xfffff);
	if (g->seed)   /* remaining ties by a hash of the pattern */
		c = c << 8 | (((key ^ g->seed) * 0x9e3779b97f4a7c15ull) >> 56);
	return c;
}

/* da4ml's "weighted most common" score: count times the overlap bits of
 * the operands (the narrower operand's width), so pairs of wide sub-sums
 * win over pairs of raw inputs of the same count. */
static uint64_t pattern_wmc(const Greedy *g, uint32_t id)
{
	uint64_t key = g->pat[id].key;
	uint32_t a = (uint32_t)(key >> 40), b = (uint32_t)(key >> 16) & 0xffffff;
	uint32_t w = g->wid[a] < g->wid[b] ? g->wid[a] : g->wid[b];
	int d = (int)((key >> 1) & 0x7f) - 64;
	uint32_t tie = (pattern_depth(g, key) << 8 | (uint32_t)(d < 0 ? -d : d)) & 0xffff;
	return ((uint64_t)g->pat[id].cnt * w) << 16 | (0xffff - tie);
}

/* Best pattern by wmc score: buckets from the top down, at most 64 per
 * bucket, stopping when no lower bucket can beat the best. */
static uint32_t pick_wmc(Greedy *g)
{
	uint32_t best = NONE;
	uint64_t bests = 0;
	for (uint32_t c = g->top; c >= 2; c--) {
		if (((uint64_t)c * g->maxwid) << 16 < bests)
			break;
		uint32_t k = 0;
		for (uint32_t id = settle(g, c, g->head[c]); id != NONE && k < 64;
		     id = settle(g, c, g->pat[id].next), k++) {
			uint64_t s = pattern_wmc(g, id);
			if (s > bests)
				best = id, bests = s;
		}
	}
	return best;
}

static uint32_t pick(Greedy *g)
{
	while (g->top >= 2 && settle(g, g->top, g->head[g->top]) == NONE)
		g->top--;
	if (g->top < 2)
		return NONE;
	if (g->mode == CMVM_TIE_WMC)
		return pick_wmc(g);
	uint32_t best = NONE, k = 0;
	uint64_t bestcost = UINT64_MAX;
	for (uint32_t id = g->head[g->top]; id != NONE && k < PICK_SCAN;
	     id = settle(g, g->top, g->pat[id].next), k++) {
		uint64_t c = pattern_cost(g, g->pat[id].key);
		if (c < bestcost)
			best = id, bestcost = c;
	}
	return best;
}

static int bits64(int64_t lo, int64_t hi)
{
	int w = 1;
	while (w < 62 && (lo < -((int64_t)1 << (w - 1)) || hi > ((int64_t)1 << (w - 1)) - 1))
		w++;
	return w;
}

static int64_t sat_shl(int64_t v, int s)
{
	const int64_t lim = (int64_t)1 << 52;
	for (; s > 0; s--)
		v = v > lim ? lim : v < -lim ? -lim : v * 2;
	return v;
}

/* Records the interval and width of variable v (inputs: 8-bit signed). */
static void var_width(Greedy *g, uint32_t v)
{
	if (v >= g->capvar) {
		g->capvar = 2 * v + 64;
		g->wid = xrealloc(g->wid, g->capvar);
		g->lo = xrealloc(g->lo, g->capvar * sizeof *g->lo);
		g->hi = xrealloc(g->hi, g->capvar * sizeof *g->hi);
	}
	if (v < g->p->nin) {
		g->lo[v] = -128, g->hi[v] = 127;
	} else {
		const CmvmOp *o = &g->p->ops[v - g->p->nin];
		int64_t alo = sat_shl(g->lo[o->a], o->sa), ahi = sat_shl(g->hi[o->a], o->sa);
		int64_t blo = sat_shl(g->lo[o->b], o->sb), bhi = sat_shl(g->hi[o->b], o->sb);
		g->lo[v] = o->neg ? alo - bhi : alo + blo;
		g->hi[v] = o->neg ? ahi - blo : ahi + bhi;
	}
	g->wid[v] = (uint8_t)bits64(g->lo[v], g->hi[v]);
	if (g->wid[v] > g->maxwid)
		g->maxwid = g->wid[v];
}

/* 2^depth of variable v: its share of its row's Kraft sum (depth mode). */
static inline uint64_t kraft_of(const Greedy *g, uint32_t v)
{
	return (uint64_t)1 << g->p->depth[v];
}

/* Makes vcnt[v] valid (0 for a new variable). */
static void vcnt_room(Greedy *g, uint32_t v)
{
	if (v < g->capvcnt)
		return;
	uint32_t cap = 2 * v + 64;
	g->vcnt = xrealloc(g->vcnt, cap * sizeof *g->vcnt);
	memset(g->vcnt + g->capvcnt, 0, (cap - g->capvcnt) * sizeof *g->vcnt);
	g->capvcnt = cap;
}

/* Replaces terms i and j of row r (an instance of the pattern) by t. */
static void replace_pair(Greedy *g, uint32_t r, uint32_t i, uint32_t j, CmvmTerm t)
{
	CmvmRow *row = &g->rows[r];
	CmvmTerm ti = row->t[i], tj = row->t[j];
	for (uint32_t x = 0; x < row->n; x++) {
		pf_pairs(g, ti, row->t, x, row->n);
		pf_pairs(g, tj, row->t, x, row->n);
		if (x != i && x != j) {
			pair_dec(g, ti, row->t[x], t.var);
			pair_dec(g, tj, row->t[x], t.var);
		}
	}
	pair_dec(g, ti, tj, t.var);
	if (g->kraft)
		g->kraft[r] += kraft_of(g, t.var) - kraft_of(g, ti.var) - kraft_of(g, tj.var);
	g->vcnt[ti.var]--, g->vcnt[tj.var]--, g->vcnt[t.var]++;
	uint32_t hi = i > j ? i : j, lo = i > j ? j : i;
	row->t[hi] = row->t[--row->n];
	row->t[lo] = row->t[--row->n];
	for (uint32_t x = 0; x < row->n; x++) {
		pf_pairs(g, t, row->t, x, row->n);
		new_inc(g, t, row->t[x], r);
	}
	cmvm_row_push(row, t);
}

/* Finds one instance of pattern (a, b, d, neg) in row; 0 if none. */
static int find_pair(const CmvmRow *row, uint32_t a, uint32_t b, int d, int neg,
                     uint32_t *pi, uint32_t *pj)
{
	for (uint32_t i = 0; i < row->n; i++) {
		if (row->t[i].var != a)
			continue;
		for (uint32_t j = 0; j < row->n; j++)
			if (j != i && row->t[j].var == b &&
			    (int)row->t[j].shift - (int)row->t[i].shift == d &&
			    (row->t[i].sign != row->t[j].sign) == neg) {
				*pi = i;
				*pj = j;
				return 1;
			}
	}
	return 0;
}

/* Replaces every instance of pattern (a, b, d, neg) in row r by v. */
static void extract_row(Greedy *g, uint32_t r, uint32_t a, uint32_t b, int d, int neg, uint32_t v)
{
	uint32_t i, j;
	if (g->stamp[r] == g->curstamp)
		return;
	g->stamp[r] = g->curstamp;
	uint64_t delta = g->kraft ? kraft_of(g, v) - kraft_of(g, a) - kraft_of(g, b) : 0;
	while ((!delta || g->kraft[r] + delta <= g->cap[r]) &&
	       find_pair(&g->rows[r], a, b, d, neg, &i, &j)) {
		CmvmTerm ti = g->rows[r].t[i], tj = g->rows[r].t[j];
		if (g->kraft) {   /* a row left without a positive term needs a negation */
			uint32_t pos = g->pos[r] - (ti.sign > 0) - (tj.sign > 0) + (ti.sign > 0);
			if (!pos && g->kraft[r] + delta > g->cap[r] / 2)
				break;
			g->pos[r] = pos;
		}
		uint8_t s = ti.shift < tj.shift ? ti.shift : tj.shift;
		replace_pair(g, r, i, j, (CmvmTerm){v, s, ti.sign});
	}
}

/* Disjoint instances of pattern (a, b, d, neg) in row (first fit, as
 * extract_row takes them); used[] is scratch of row->n zero bytes. */
static uint32_t row_instances(const CmvmRow *row, uint32_t a, uint32_t b, int d, int neg,
                              uint8_t *used)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < row->n; i++) {
		if (row->t[i].var != a || used[i])
			continue;
		for (uint32_t j = 0; j < row->n; j++)
			if (j != i && !used[j] && row->t[j].var == b &&
			    (int)row->t[j].shift - (int)row->t[i].shift == d &&
			    (row->t[i].sign != row->t[j].sign) == neg) {
				used[i] = used[j] = 1;
				k++;
				break;
			}
	}
	memset(used, 0, row->n);
	return k;
}

/* Instances of pattern (a, b, d, neg) in row r that its depth cap admits. */
static uint32_t admitted(Greedy *g, uint32_t r, uint32_t a, uint32_t b, int d, int neg,
                         uint64_t delta)
{
	if (g->stamp[r] == g->curstamp)
		return 0;
	g->stamp[r] = g->curstamp;
	uint32_t k = row_instances(&g->rows[r], a, b, d, neg, g->used);
	if (!delta || !k)
		return k;
	uint64_t room = g->cap[r] > g->kraft[r] ? (g->cap[r] - g->kraft[r]) / delta : 0;
	return room < k ? (uint32_t)room : k;
}

/* Depth mode: whether pattern id has >= 2 instances its rows' caps admit.
 * Caps only tighten (an extraction never lowers a Kraft sum) and an old
 * pattern gains no instances, so a pattern that fails never passes later. */
static int admissible(Greedy *g, uint32_t id)
{
	uint64_t key = g->pat[id].key;
	uint32_t a = (uint32_t)(key >> 40), b = (uint32_t)(key >> 16) & 0xffffff;
	int d = (int)((key >> 1) & 0x7f) - 64, neg = (int)(key & 1);
	uint32_t da = g->p->depth[a], db = g->p->depth[b], dv = (da > db ? da : db) + 1;
	if (dv > 62)
		return 0;
	uint64_t delta = ((uint64_t)1 << dv) - kraft_of(g, a) - kraft_of(g, b), n = 0;
	g->curstamp++;
	for (uint32_t o = g->pat[id].occ; o != NONE && n < 2; o = g->occs[o].next)
		n += admitted(g, g->occs[o].row, a, b, d, neg, delta);
	if (id < g->ninit)
		for (uint32_t k = g->iend[id]; k-- > g->ibeg[id] && n < 2;)
			n += admitted(g, g->irow[k], a, b, d, neg, delta);
	return n >= 2;
}

static void extract(Greedy *g, uint32_t id)
{
	uint64_t key = g->pat[id].key;
	uint32_t a = (uint32_t)(key >> 40), b = (uint32_t)(key >> 16) & 0xffffff;
	int d = (int)((key >> 1) & 0x7f) - 64, neg = (int)(key & 1);
	uint32_t v = cmvm_op(g->p, a, d < 0 ? -d : 0, b, d > 0 ? d : 0, neg);
	vcnt_room(g, v);
	if (g->mode == CMVM_TIE_WMC)
		var_width(g, v);
	g->curstamp++;
	for (uint32_t o = g->pat[id].occ; o != NONE; o = g->occs[o].next)
		extract_row(g, g->occs[o].row, a, b, d, neg, v);
	if (id < g->ninit) {
		for (uint32_t k = g->iend[id]; k-- > g->ibeg[id];) {
			if (k >= g->ibeg[id] + PF_DIST / 4)
				__builtin_prefetch(g->rows[g->irow[k - PF_DIST / 4]].t);
			extract_row(g, g->irow[k], a, b, d, neg, v);
		}
		g->iend[id] = g->ibeg[id];
	}
	g->pat[id].occ = NONE;
	g->pat[id].last = NONE;
	new_flush(g);
}

/* Links every counted pattern into its bucket in the order of its last
 * instance: the lists come out exactly as if each increment had moved the
 * pattern to the head of its new bucket. */
static void link_all(Greedy *g)
{
	if (g->nipair >= UINT32_MAX)
		die("greedy: too many pair instances");
	g->ninit = g->npat;
	g->ibeg = xcalloc((size_t)g->npat + 1, sizeof *g->ibeg);
	g->iend = xmalloc(((size_t)g->npat + 1) * sizeof *g->iend);
	g->irow = xmalloc((g->nipair + 1) * sizeof *g->irow);
	for (size_t k = 0; k < g->nipair; k++)
		g->ibeg[g->ipair[2 * k]]++;
	for (uint32_t id = 0, sum = 0; id < g->npat; id++) {
		uint32_t c = g->ibeg[id];
		g->ibeg[id] = g->iend[id] = sum;
		sum += c;
	}
	for (size_t k = 0; k < g->nipair; k++)
		g->irow[g->iend[g->ipair[2 * k]]++] = g->ipair[2 * k + 1];
	free(g->ipair);
	g->ipair = NULL;
	uint32_t *by = xmalloc(((size_t)g->serial + 1) * sizeof *by);
	memset(by, 0xff, ((size_t)g->serial + 1) * sizeof *by);
	for (uint32_t id = 0; id < g->npat; id++)
		by[g->pat[id].prev] = id;
	for (uint32_t k = 0; k < g->serial; k++)
		if (by[k] != NONE)
			bucket_link(g, by[k]);
	free(by);
}

static void greedy_free(Greedy *g)
{
	cmvm_map_free(&g->map);
	cmvm_map_free(&g->nmap);
	free(g->npats), free(g->npool);
	free(g->pat), free(g->occs);
	free(g->ibeg), free(g->iend), free(g->irow);
	free(g->head), free(g->stamp);
	free(g->wid), free(g->lo), free(g->hi);
	free(g->kraft), free(g->used), free(g->vcnt), free(g->pos);
}

void cmvm_greedy(Cmvm *p, CmvmRow *rows, uint32_t nrows, int mode, const uint64_t *cap)
{
	Greedy g;
	memset(&g, 0, sizeof g);
	g.p = p;
	g.rows = rows;
	g.mode = mode & 3;
	g.seed = (uint64_t)(mode >> 4) * 0xd1b54a32d192ed03ull;
	vcnt_room(&g, p->nin + p->nops);
	for (uint32_t r = 0; r < nrows; r++)
		for (uint32_t i = 0; i < rows[r].n; i++)
			g.vcnt[rows[r].t[i].var]++;
	if (cap) {
		uint32_t maxn = 1;
		g.cap = cap;
		g.kraft = xcalloc(nrows ? nrows : 1, sizeof *g.kraft);
		g.pos = xcalloc(nrows ? nrows : 1, sizeof *g.pos);
		for (uint32_t r = 0; r < nrows; r++) {
			for (uint32_t i = 0; i < rows[r].n; i++) {
				g.kraft[r] += kraft_of(&g, rows[r].t[i].var);
				g.pos[r] += rows[r].t[i].sign > 0;
			}
			maxn = rows[r].n > maxn ? rows[r].n : maxn;
		}
		g.used = xcalloc(maxn, 1);
	}
	if (g.mode == CMVM_TIE_WMC)
		for (uint32_t v = 0; v < p->nin + p->nops; v++)
			var_width(&g, v);
	/* sized for the pairs of the longest row (few of them repeat within a
	 * row: the 1 x 64 dot products of the block scales have ~30k), up to
	 * 2^19: growing it rehashes every pair counted so far */
	uint64_t npairs = 0;
	for (uint32_t r = 0; r < nrows; r++) {
		uint64_t k = (uint64_t)rows[r].n * (rows[r].n - (rows[r].n > 0)) / 2;
		npairs = k > npairs ? k : npairs;
	}
	uint32_t size = npairs < 1024 ? 1024 : npairs > (1u << 19) ? 1u << 19 : (uint32_t)npairs;
	cmvm_map_init(&g.map, size);
	g.cappat = size;
	g.pat = xmalloc((size_t)size * sizeof *g.pat);
	cmvm_map_init(&g.nmap, 256);
	g.caphead = 64;
	g.head = xmalloc(g.caphead * sizeof *g.head);
	memset(g.head, 0xff, g.caphead * sizeof *g.head);
	g.stamp = xcalloc(nrows ? nrows : 1, sizeof *g.stamp);
	for (uint32_t r = 0; r < nrows; r++)
		for (uint32_t i = 0; i < rows[r].n; i++)
			for (uint32_t j = i + 1; j < rows[r].n; j++) {
				pf_pairs(&g, rows[r].t[i], rows[r].t, j, rows[r].n);
				pair_inc(&g, rows[r].t[i], rows[r].t[j], r);
			}
	link_all(&g);
	uint32_t id;
	while (p->nin + p->nops + 1 < VAR_LIMIT && (id = pick(&g)) != NONE) {
		if (g.kraft && !admissible(&g, id)) {
			bucket_unlink(&g, id);   /* for good: nothing relists it */
			continue;
		}
		extract(&g, id);
	}
	greedy_free(&g);
}
