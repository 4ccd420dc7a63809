/* Gravitational n-body simulation (double, softened, leapfrog /
 * kick-drift-kick) of a generated cluster of bodies. Verifies that total
 * energy drifts by less than a tolerance and that momentum stays zero.
 * Built with -ffp-contract=off so every ISA computes the same bits.
 * Size: time steps. */
#include <math.h>
#include "common.h"

#define N 48
#define EPS2 1e-3

struct body {
    double x[3], v[3], a[3], m;
};

static struct body bodies[N];

static void accelerations(void) {
    for (int i = 0; i < N; i++)
        bodies[i].a[0] = bodies[i].a[1] = bodies[i].a[2] = 0;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) {
            double d[3], r2 = EPS2;
            for (int k = 0; k < 3; k++) {
                d[k] = bodies[j].x[k] - bodies[i].x[k];
                r2 += d[k] * d[k];
            }
            double inv = 1.0 / (r2 * sqrt(r2));
            for (int k = 0; k < 3; k++) {
                bodies[i].a[k] += d[k] * bodies[j].m * inv;
                bodies[j].a[k] -= d[k] * bodies[i].m * inv;
            }
        }
}

static double energy(void) {
    double e = 0;
    for (int i = 0; i < N; i++) {
        struct body *b = &bodies[i];
        e += 0.5 * b->m * (b->v[0] * b->v[0] + b->v[1] * b->v[1] + b->v[2] * b->v[2]);
        for (int j = i + 1; j < N; j++) {
            double r2 = EPS2;
            for (int k = 0; k < 3; k++) {
                double d = bodies[j].x[k] - b->x[k];
                r2 += d * d;
            }
            e -= b->m * bodies[j].m / sqrt(r2);
        }
    }
    return e;
}

static void init(void) {
    double p[3] = {0, 0, 0}, mtot = 0;
    for (int i = 0; i < N; i++) {
        struct body *b = &bodies[i];
        b->m = 0.5 + rng_double();
        for (int k = 0; k < 3; k++) {
            b->x[k] = rng_double() * 4 - 2;
            b->v[k] = (rng_double() - 0.5) * 0.3;
            p[k] += b->m * b->v[k];
        }
        mtot += b->m;
    }
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 3; k++)
            bodies[i].v[k] -= p[k] / mtot;
}

int main(int argc, char **argv) {
    long steps = arg_size(argc, argv, 120000);
    const double dt = 1e-4;
    init();
    double e0 = energy();
    accelerations();
    for (long s = 0; s < steps; s++) {
        for (int i = 0; i < N; i++)
            for (int k = 0; k < 3; k++) {
                bodies[i].v[k] += 0.5 * dt * bodies[i].a[k];
                bodies[i].x[k] += dt * bodies[i].v[k];
            }
        accelerations();
        for (int i = 0; i < N; i++)
            for (int k = 0; k < 3; k++)
                bodies[i].v[k] += 0.5 * dt * bodies[i].a[k];
    }
    double e1 = energy();
    double p[3] = {0, 0, 0};
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 3; k++)
            p[k] += bodies[i].m * bodies[i].v[k];
    if (!(fabs((e1 - e0) / e0) < 1e-3))
        fail("nbody", "energy not conserved");
    if (!(fabs(p[0]) + fabs(p[1]) + fabs(p[2]) < 1e-9))
        fail("nbody", "momentum not conserved");
    uint64_t sum = 0;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 3; k++) {
            uint64_t v;
            memcpy(&v, &bodies[i].x[k], 8);
            sum = mix(sum, v);
        }
    printf("nbody energy %.12f -> %.12f\n", e0, e1);
    report("nbody", sum);
    return 0;
}
