/*
 * cmvm_pool.c -- solves cmvm_lower's constant matrices ahead of time on a
 * second thread.
 *
 * cmvm_solve() is a pure function of its matrix (no shared state), so a
 * solution does not depend on the thread that computes it or on when.
 * cmvm_lower lists every matrix it is going to solve, in the order it will
 * need them (cmvm_pool_add); a helper thread claims them in that order, at
 * most POOL_AHEAD jobs ahead of the consumer (bounded memory); the
 * consumer takes the solutions in the same order (cmvm_pool_take), and
 * while the one it needs is not solved yet it claims and solves the next
 * unclaimed job of the window itself, so that neither thread waits while
 * there is work (on the pusht predict-step the consumer used to wait 22 s
 * of cse's 40 for jobs the helper was solving).  The IR built from the
 * solutions is byte-identical to solving sequentially, whichever thread
 * solved what.  If the thread cannot be created, every job is solved by
 * the consumer.
 *
 * Invariants (under mu): jobs [0, taken) are handed out; [taken, next) are
 * claimed (state 1) or solved (state 2); [next, n) are unclaimed.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cmvm.h"

enum { POOL_AHEAD = 8 };

typedef struct CmvmJob {
	const int32_t *w;
	uint32_t rows, cols;
	size_t stride;
	int level;
} CmvmJob;

struct CmvmPool {
	CmvmJob *job;
	Cmvm *sol;
	uint8_t *state;       /* 0 unclaimed, 1 being solved, 2 solved */
	uint32_t n, cap;
	uint32_t next, taken;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	int started;
};

CmvmPool *cmvm_pool_new(void)
{
	CmvmPool *p = xcalloc(1, sizeof *p);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	return p;
}

void cmvm_pool_add(CmvmPool *p, const int32_t *w, uint32_t rows, uint32_t cols,
                   size_t stride, int level)
{
	if (p->started)
		die("cmvm pool: job added after start");
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		p->job = xrealloc(p->job, p->cap * sizeof *p->job);
	}
	p->job[p->n++] = (CmvmJob){w, rows, cols, stride, level};
}

/* Claims the next job and solves it outside the lock (called and
 * returning with mu held). */
static void claim_and_solve(CmvmPool *p)
{
	uint32_t j = p->next++;
	const CmvmJob *b = &p->job[j];
	p->state[j] = 1;
	pthread_mutex_unlock(&p->mu);
	cmvm_solve(&p->sol[j], b->w, b->rows, b->cols, b->stride, b->level);
	pthread_mutex_lock(&p->mu);
	p->state[j] = 2;
	pthread_cond_broadcast(&p->cv);
}

static void *pool_worker(void *arg)
{
	CmvmPool *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->next < p->n && p->next >= p->taken + POOL_AHEAD)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->next >= p->n)
			break;
		claim_and_solve(p);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

void cmvm_pool_start(CmvmPool *p)
{
	p->sol = xcalloc(p->n + 1, sizeof *p->sol);
	p->state = xcalloc(p->n + 1, 1);
	p->started = 1;
	if (p->n > 1 && pthread_create(&p->th, NULL, pool_worker, p) == 0)
		p->started = 2;
}

void cmvm_pool_take(CmvmPool *p, Cmvm *out, const int32_t *w, uint32_t rows, uint32_t cols)
{
	pthread_mutex_lock(&p->mu);
	uint32_t j = p->taken;
	if (!p->started || j >= p->n || p->job[j].w != w || p->job[j].rows != rows ||
	    p->job[j].cols != cols)
		die("cmvm pool: jobs taken out of order");
	/* While job j is not solved, solve the next unclaimed job of the
	 * window here (job j itself when the helper has not claimed it);
	 * wait only when every job of the window is claimed. */
	while (p->state[j] != 2) {
		if (p->next < p->n && p->next < p->taken + POOL_AHEAD)
			claim_and_solve(p);
		else
			pthread_cond_wait(&p->cv, &p->mu);
	}
	*out = p->sol[j];
	memset(&p->sol[j], 0, sizeof p->sol[j]);
	p->taken++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void cmvm_pool_free(CmvmPool *p)
{
	if (!p)
		return;
	if (p->started == 2) {
		pthread_mutex_lock(&p->mu);
		p->n = p->next;   /* claim nothing more */
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->th, NULL);
	}
	for (uint32_t j = 0; p->sol && j < p->n; j++)
		cmvm_free(&p->sol[j]);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->job);
	free(p->sol);
	free(p->state);
	free(p);
}
