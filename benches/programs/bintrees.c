/* Binary trees, malloc heavy: many short-lived complete trees of growing
 * depth built node by node with malloc, walked and freed, next to one
 * long-lived tree. Node counts are checked against 2^(d+1) - 1 and the
 * item sums against their closed form. Size: maximum depth. */
#include "common.h"

struct node {
    struct node *left, *right;
    long item;
};

static struct node *build(long item, int depth) {
    struct node *n = malloc(sizeof *n);
    if (!n)
        fail("bintrees", "out of memory");
    n->item = item;
    if (depth > 0) {
        n->left = build(2 * item - 1, depth - 1);
        n->right = build(2 * item, depth - 1);
    } else {
        n->left = n->right = NULL;
    }
    return n;
}

/* Number of nodes; adds the items into *sum. */
static long walk(const struct node *n, uint64_t *sum) {
    *sum += (uint64_t)n->item;
    if (!n->left)
        return 1;
    return 1 + walk(n->left, sum) + walk(n->right, sum);
}

static void release(struct node *n) {
    if (n->left) {
        release(n->left);
        release(n->right);
    }
    free(n);
}

int main(int argc, char **argv) {
    int max_depth = (int)arg_size(argc, argv, 18);
    uint64_t dummy = 0;
    struct node *keep = build(0, max_depth);
    uint64_t sum = 0;
    for (int d = 4; d <= max_depth; d += 2) {
        long iters = 1L << (max_depth - d + 4);
        long nodes = 0;
        uint64_t items = 0;
        for (long i = 1; i <= iters; i++) {
            struct node *t = build(i, d);
            uint64_t s = 0;
            nodes += walk(t, &s);
            items += s;
            release(t);
        }
        if (nodes != iters * ((2L << d) - 1))
            fail("bintrees", "node count differs from 2^(d+1) - 1");
        /* Level k of a tree rooted at item i sums to a_k * i + b_k with
         * a_k = 4 a_(k-1), b_k = 4 b_(k-1) - 2^(k-1) (children 2x-1, 2x). */
        uint64_t a = 1, b = 0, ta = 0, tb = 0;
        for (int k = 0; k <= d; k++) {
            if (k > 0) {
                a = 4 * a;
                b = 4 * b - (1ull << (k - 1));
            }
            ta += a;
            tb += b;
        }
        uint64_t n_it = (uint64_t)iters;
        if (items != ta * (n_it * (n_it + 1) / 2) + tb * n_it)
            fail("bintrees", "item sum differs from the closed form");
        printf("bintrees depth %d: %ld trees, %ld nodes\n", d, iters, nodes);
        sum = mix(mix(sum, (uint64_t)nodes), items);
    }
    long kept = walk(keep, &dummy);
    if (kept != (2L << max_depth) - 1)
        fail("bintrees", "long-lived tree lost nodes");
    release(keep);
    report("bintrees", mix(sum, (uint64_t)kept));
    return 0;
}
