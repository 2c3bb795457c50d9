/* The file-system floor of workload 1: what the file system costs to make the
 * directory and files one finished job leaves, N times on T threads, and
 * nothing else (no spawn, no broker, no parsing). Each job is one mkdir and,
 * per file, one create with its final mode, one write of its size and one
 * close: the least any worker that leaves those files can do. Prints one
 * JSON line:
 * {"jobs": N, "threads": T, "seconds": S, "per_second": R, "cpu_seconds": C,
 *  "syscalls_per_job": K}
 *
 * usage: jobfs_floor ROOT N T NAME:SIZE:MODE...
 *   ROOT  an existing directory; the jobs go to ROOT/t<thread>/<i>
 *   MODE  octal, e.g. _run.sh:1425:755 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct file_spec {
  char name[256];
  size_t size;
  mode_t mode;
};

static const char* root;
static struct file_spec* files;
static int file_count;
static char* content;
static size_t max_size;
static atomic_long remaining;

static void die(const char* what, const char* path) {
  fprintf(stderr, "jobfs_floor: %s %s: %s\n", what, path, strerror(errno));
  exit(1);
}

static void* job_loop(void* arg) {
  long thread = (long)arg;
  char path[4096];
  snprintf(path, sizeof path, "%s/t%ld", root, thread);
  if (mkdir(path, 0755) != 0 && errno != EEXIST) die("mkdir", path);
  long i;
  while ((i = atomic_fetch_sub(&remaining, 1)) > 0) {
    snprintf(path, sizeof path, "%s/t%ld/%ld", root, thread, i);
    if (mkdir(path, 0755) != 0) die("mkdir", path);
    int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) die("open", path);
    for (int f = 0; f < file_count; ++f) {
      int fd = openat(dir, files[f].name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, files[f].mode);
      if (fd < 0) die("create", files[f].name);
      if (files[f].size > 0 && write(fd, content, files[f].size) != (ssize_t)files[f].size)
        die("write", files[f].name);
      close(fd);
    }
    close(dir);
  }
  return NULL;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: jobfs_floor ROOT N THREADS NAME:SIZE:MODE...\n");
    return 2;
  }
  root = argv[1];
  long n = atol(argv[2]);
  int threads = atoi(argv[3]);
  if (n <= 0 || threads <= 0 || threads > 256) {
    fprintf(stderr, "jobfs_floor: N > 0 and 1 <= THREADS <= 256\n");
    return 2;
  }
  file_count = argc - 4;
  files = calloc((size_t)file_count, sizeof *files);
  for (int f = 0; f < file_count; ++f) {
    unsigned long size;
    unsigned int mode;
    if (sscanf(argv[4 + f], "%255[^:]:%lu:%o", files[f].name, &size, &mode) != 3) {
      fprintf(stderr, "jobfs_floor: %s is not NAME:SIZE:MODE\n", argv[4 + f]);
      return 2;
    }
    files[f].size = size;
    files[f].mode = (mode_t)mode;
    if (size > max_size) max_size = size;
  }
  content = malloc(max_size + 1);
  memset(content, 'x', max_size + 1);
  umask(0);
  atomic_store(&remaining, n);
  pthread_t tids[256];
  double start = now_seconds();
  for (long i = 0; i < threads; ++i) pthread_create(&tids[i], NULL, job_loop, (void*)i);
  for (int i = 0; i < threads; ++i) pthread_join(tids[i], NULL);
  double seconds = now_seconds() - start;
  int writes = 0;
  for (int f = 0; f < file_count; ++f) writes += files[f].size > 0;
  printf(
      "{\"jobs\": %ld, \"threads\": %d, \"seconds\": %.6f, \"per_second\": %.1f, "
      "\"cpu_seconds\": %.3f, \"syscalls_per_job\": %d}\n",
      n, threads, seconds, (double)n / seconds, cpu_seconds(), 3 + 2 * file_count + writes);
  return 0;
}
