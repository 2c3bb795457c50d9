/* The physical limit of workload 1: posix_spawn and reap /bin/true N times
 * on T threads, and nothing else. Prints one JSON line:
 * {"spawns": N, "threads": T, "seconds": S, "per_second": R, "cpu_seconds": C},
 * C being the user + system CPU of this program and of the reaped children.
 *
 * usage: spawn_true [N [T]]   (defaults 20000 and 2) */
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

extern char** environ;

static atomic_long remaining;

static void* spawn_loop(void* arg) {
  (void)arg;
  char* argv[] = {"/bin/true", NULL};
  while (atomic_fetch_sub(&remaining, 1) > 0) {
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
    if (rc != 0) {
      fprintf(stderr, "spawn_true: posix_spawn /bin/true: error %d\n", rc);
      exit(1);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "spawn_true: /bin/true did not exit 0\n");
      exit(1);
    }
  }
  return NULL;
}

static double cpu_of(int who) {
  struct rusage ru;
  getrusage(who, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 20000;
  int threads = argc > 2 ? atoi(argv[2]) : 2;
  if (n <= 0 || threads <= 0 || threads > 256) {
    fprintf(stderr, "usage: spawn_true [N [THREADS]] (N > 0, 1 <= THREADS <= 256)\n");
    return 2;
  }
  atomic_store(&remaining, n);
  pthread_t tids[256];
  double start = now_seconds();
  for (int i = 0; i < threads; ++i) pthread_create(&tids[i], NULL, spawn_loop, NULL);
  for (int i = 0; i < threads; ++i) pthread_join(tids[i], NULL);
  double seconds = now_seconds() - start;
  double cpu = cpu_of(RUSAGE_SELF) + cpu_of(RUSAGE_CHILDREN);
  printf(
      "{\"spawns\": %ld, \"threads\": %d, \"seconds\": %.6f, \"per_second\": %.1f, "
      "\"cpu_seconds\": %.3f}\n",
      n, threads, seconds, (double)n / seconds, cpu);
  return 0;
}
