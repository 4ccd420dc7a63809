/* Files and directories, all relative to the current directory (the runner
 * uses a fresh temporary directory).
 * System calls: create/write/read back, lseek (SET, CUR, END, holes past EOF
 * read as zeros), pread/pwrite, stat/fstat sizes and types, ftruncate,
 * O_APPEND, O_EXCL on an existing file, dup sharing the offset, mkdir/rmdir,
 * opendir/readdir (sorted listing; "." and ".." skipped), rename (including
 * over an existing file), unlink, link count, symlink/readlink, access,
 * openat/fstatat/unlinkat, getcwd (checked, not printed), chdir.
 * Buffered stdio: fopen modes, fprintf/fscanf round trip of a table,
 * fgets/fputs/getline, fread/fwrite of binary records, fseek/ftell/rewind/
 * fgetpos/fsetpos, ungetc, setvbuf, feof/ferror/clearerr, fmemopen,
 * open_memstream, tmpfile, perror and strerror text on stderr (compared).
 * Leaves behind for comparison: out.txt, data/ (data/a.txt, data/b.bin,
 * data/sub/c.txt, data/link -> a.txt), report.txt, records.bin.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "guest.h"

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list_dir(const char *path) {
    DIR *d = opendir(path);
    CHECK(d != NULL);
    if (!d) return;
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_names);
    printf("listing of %s:", path);
    for (int i = 0; i < n; i++) {
        char full[256];
        struct stat st;
        snprintf(full, sizeof full, "%s/%s", path, names[i]);
        lstat(full, &st);
        printf(" %s(%s,%lld)", names[i], S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "link" : "file",
               S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size);
        free(names[i]);
    }
    printf("\n");
}

static void syscall_file_tests(void) {
    /* Write, read back, seek. */
    int fd = open("out.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    const char *line1 = "first line of out.txt\n";
    ssize_t w = write(fd, line1, strlen(line1));
    CHECK(w == (ssize_t)strlen(line1));
    off_t pos = lseek(fd, 0, SEEK_CUR);
    off_t end = lseek(fd, 0, SEEK_END);
    lseek(fd, 6, SEEK_SET);
    char buf[128] = {0};
    ssize_t r = read(fd, buf, 4);
    printf("after write: cur=%lld end=%lld read@6='%.*s'\n", (long long)pos, (long long)end, (int)r, buf);
    CHECK(r == 4 && memcmp(buf, "line", 4) == 0);
    /* A hole: seek past EOF and write; the gap reads back as zeros. */
    lseek(fd, 100, SEEK_SET);
    CHECK(write(fd, "after-hole\n", 11) == 11);
    struct stat st;
    fstat(fd, &st);
    printf("after hole: size=%lld regular=%d\n", (long long)st.st_size, S_ISREG(st.st_mode));
    CHECK(st.st_size == 111);
    memset(buf, 'x', sizeof buf);
    r = pread(fd, buf, 10, 30);
    int zeros = 1;
    for (int i = 0; i < 10; i++) zeros &= buf[i] == 0;
    printf("pread in hole: %zd bytes all zero=%d\n", r, zeros);
    CHECK(r == 10 && zeros);
    /* pwrite does not move the offset. */
    off_t before = lseek(fd, 0, SEEK_CUR);
    CHECK(pwrite(fd, "FIRST", 5, 0) == 5);
    printf("pwrite kept offset: %d\n", lseek(fd, 0, SEEK_CUR) == before);
    /* dup shares the offset. */
    int fd2 = dup(fd);
    lseek(fd, 0, SEEK_SET);
    lseek(fd2, 22, SEEK_CUR);
    printf("dup shares offset: %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    CHECK(lseek(fd, 0, SEEK_CUR) == 22);
    close(fd2);
    /* ftruncate to replace the hole area with explicit text later. */
    CHECK(ftruncate(fd, 22) == 0);
    fstat(fd, &st);
    printf("after ftruncate: size=%lld\n", (long long)st.st_size);
    close(fd);
    /* O_APPEND */
    fd = open("out.txt", O_WRONLY | O_APPEND);
    lseek(fd, 0, SEEK_SET);
    CHECK(write(fd, "appended line\n", 14) == 14);
    close(fd);
    /* O_EXCL on an existing file fails with EEXIST. */
    errno = 0;
    int ex = open("out.txt", O_WRONLY | O_CREAT | O_EXCL, 0644);
    printf("O_EXCL on existing: fd=%d errno=%s\n", ex, errno == EEXIST ? "EEXIST" : "other");
    CHECK(ex == -1 && errno == EEXIST);
    /* stdio on the same file */
    FILE *f = fopen("out.txt", "a+");
    fprintf(f, "stdio line %d %s\n", 3, "end");
    fseek(f, 0, SEEK_SET);
    char lbuf[128];
    int lines = 0;
    while (fgets(lbuf, sizeof lbuf, f)) printf("out.txt line %d: %s", ++lines, lbuf);
    fclose(f);
    CHECK(lines == 3);

    /* Directories. */
    CHECK(mkdir("data", 0755) == 0);
    CHECK(mkdir("data/sub", 0755) == 0);
    errno = 0;
    int mk = mkdir("data", 0755);
    printf("mkdir existing: %d errno=%s\n", mk, errno == EEXIST ? "EEXIST" : "other");
    CHECK(mk == -1 && errno == EEXIST);
    fd = open("data/a.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(write(fd, "alpha\n", 6) == 6);
    close(fd);
    fd = open("data/tmp.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    unsigned char bin[300];
    for (int i = 0; i < 300; i++) bin[i] = (unsigned char)(i * 7);
    CHECK(write(fd, bin, sizeof bin) == (ssize_t)sizeof bin);
    close(fd);
    CHECK(rename("data/tmp.bin", "data/b.bin") == 0);
    fd = open("data/sub/c.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(write(fd, "gamma\n", 6) == 6);
    close(fd);
    fd = open("data/victim.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(write(fd, "to be replaced\n", 15) == 15);
    close(fd);
    fd = open("data/replacer.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(write(fd, "replacement\n", 12) == 12);
    close(fd);
    CHECK(rename("data/replacer.txt", "data/victim.txt") == 0); /* atomically replaces */
    list_dir("data");
    /* Hard link count, unlink. */
    CHECK(link("data/victim.txt", "data/hard.txt") == 0);
    stat("data/victim.txt", &st);
    printf("link count after link: %lu\n", (unsigned long)st.st_nlink);
    CHECK(st.st_nlink == 2);
    CHECK(unlink("data/hard.txt") == 0);
    stat("data/victim.txt", &st);
    printf("link count after unlink: %lu\n", (unsigned long)st.st_nlink);
    fd = open("data/victim.txt", O_RDONLY);
    memset(buf, 0, sizeof buf);
    r = read(fd, buf, sizeof buf - 1);
    printf("victim.txt now: %s", buf);
    close(fd);
    CHECK(unlink("data/victim.txt") == 0);
    errno = 0;
    int ul = unlink("data/victim.txt");
    printf("unlink missing: %d errno=%s\n", ul, errno == ENOENT ? "ENOENT" : "other");
    CHECK(ul == -1 && errno == ENOENT);
    /* Symlink. */
    CHECK(symlink("a.txt", "data/link") == 0);
    char target[64] = {0};
    ssize_t tl = readlink("data/link", target, sizeof target - 1);
    struct stat lst, fst;
    lstat("data/link", &lst);
    stat("data/link", &fst);
    printf("readlink: %.*s lstat is link=%d stat size=%lld\n", (int)tl, target, S_ISLNK(lst.st_mode),
           (long long)fst.st_size);
    CHECK(tl == 5 && S_ISLNK(lst.st_mode) && fst.st_size == 6);
    printf("access: out.txt R_OK=%d missing F_OK=%d\n", access("out.txt", R_OK), access("nope", F_OK));
    /* *at() calls relative to a directory fd. */
    int dfd = open("data", O_RDONLY | O_DIRECTORY);
    fd = openat(dfd, "sub/at.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(write(fd, "via openat\n", 11) == 11);
    close(fd);
    CHECK(fstatat(dfd, "sub/at.txt", &st, 0) == 0);
    printf("fstatat size=%lld\n", (long long)st.st_size);
    CHECK(unlinkat(dfd, "sub/at.txt", 0) == 0);
    /* rmdir of a non-empty dir fails; of an empty one succeeds. */
    CHECK(mkdir("data/empty", 0755) == 0);
    errno = 0;
    int rm1 = rmdir("data/sub");
    int e1 = errno;
    int rm2 = rmdir("data/empty");
    printf("rmdir non-empty=%d (%s) rmdir empty=%d\n", rm1, e1 == ENOTEMPTY || e1 == EEXIST ? "ENOTEMPTY" : "other",
           rm2);
    CHECK(rm1 == -1 && rm2 == 0);
    close(dfd);
    list_dir("data");
    list_dir("data/sub");
    /* getcwd and chdir. */
    char cwd[4096], cwd2[4096];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(chdir("data/sub") == 0);
    CHECK(getcwd(cwd2, sizeof cwd2) != NULL);
    printf("chdir: new cwd ends with /data/sub: %d, starts with old cwd: %d\n",
           strlen(cwd2) >= 9 && strcmp(cwd2 + strlen(cwd2) - 9, "/data/sub") == 0, strncmp(cwd, cwd2, strlen(cwd)) == 0);
    fd = open("c.txt", O_RDONLY);
    memset(buf, 0, sizeof buf);
    r = read(fd, buf, sizeof buf - 1);
    printf("read relative to new cwd: %s", buf);
    close(fd);
    CHECK(chdir("../..") == 0);
}

struct rec {
    int32_t id;
    double value;
    char name[12];
};

static void stdio_tests(void) {
    FILE *f = fopen("report.txt", "w");
    CHECK(f != NULL);
    setvbuf(f, NULL, _IOFBF, 64); /* tiny buffer: many flushes */
    fprintf(f, "# id name value\n");
    for (int i = 0; i < 20; i++) fprintf(f, "%d item%02d %.3f\n", i, i * 3, i * 1.25 - 7);
    fputs("# end\n", f);
    long len = ftell(f);
    fclose(f);
    printf("wrote report.txt, ftell=%ld\n", len);

    f = fopen("report.txt", "r");
    char line[128];
    CHECK(fgets(line, sizeof line, f) != NULL);
    printf("header: %s", line);
    int id, count = 0;
    char name[32];
    double value, sum = 0;
    while (fscanf(f, "%d %31s %lf", &id, name, &value) == 3) {
        sum += value;
        count++;
    }
    printf("fscanf read %d rows, sum=%.3f, last name=%s\n", count, sum, name);
    CHECK(count == 20 && sum == 1.25 * 190 - 140);
    /* Position handling. */
    fpos_t mark;
    rewind(f);
    CHECK(fgets(line, sizeof line, f) != NULL);
    fgetpos(f, &mark);
    long after_header = ftell(f);
    int c = fgetc(f);
    ungetc('X', f);
    int c2 = fgetc(f);
    fsetpos(f, &mark);
    int c3 = fgetc(f);
    fseek(f, -6, SEEK_END);
    CHECK(fgets(line, sizeof line, f) != NULL);
    printf("after_header=%ld first=%c ungetc gives %c then restored %c; tail='%s'", after_header, c, c2, c3, line);
    CHECK(c == '0' && c2 == 'X' && c3 == '0');
    while (fgetc(f) != EOF) {
    }
    printf("feof=%d ferror=%d\n", feof(f) != 0, ferror(f) != 0);
    clearerr(f);
    printf("after clearerr feof=%d\n", feof(f) != 0);
    fclose(f);

    /* Append and read back with getline. */
    f = fopen("report.txt", "a");
    fprintf(f, "appended %s\n", "line");
    fclose(f);
    f = fopen("report.txt", "r");
    char *gl = NULL;
    size_t cap = 0;
    ssize_t n;
    int lines = 0;
    size_t longest = 0;
    while ((n = getline(&gl, &cap, f)) > 0) {
        lines++;
        if ((size_t)n > longest) longest = (size_t)n;
    }
    printf("getline: %d lines, longest %zu bytes, last='%s'", lines, longest, gl);
    free(gl);
    fclose(f);
    CHECK(lines == 23);

    /* Binary records with r+/w+. */
    f = fopen("records.bin", "w+");
    struct rec rs[5];
    memset(rs, 0, sizeof rs);
    for (int i = 0; i < 5; i++) {
        rs[i].id = i * 100;
        rs[i].value = i / 4.0;
        snprintf(rs[i].name, sizeof rs[i].name, "rec-%d", i);
    }
    CHECK(fwrite(rs, sizeof rs[0], 5, f) == 5);
    fseek(f, (long)(2 * sizeof(struct rec)), SEEK_SET);
    struct rec r2;
    CHECK(fread(&r2, sizeof r2, 1, f) == 1);
    r2.value = 99.5;
    fseek(f, -(long)sizeof r2, SEEK_CUR);
    fwrite(&r2, sizeof r2, 1, f);
    fflush(f);
    rewind(f);
    struct rec all[6];
    size_t got = fread(all, sizeof all[0], 6, f);
    printf("records: read %zu, rec2=%s/%d/%g size=%ld\n", got, all[2].name, all[2].id, all[2].value,
           (fseek(f, 0, SEEK_END), ftell(f)));
    CHECK(got == 5 && all[2].value == 99.5 && all[4].id == 400);
    fclose(f);

    /* Memory streams. */
    char membuf[64] = "10 20 30 forty";
    FILE *mf = fmemopen(membuf, strlen(membuf), "r");
    int a, b, d;
    char w[16];
    int k = fscanf(mf, "%d %d %d %15s", &a, &b, &d, w);
    fclose(mf);
    char *dyn = NULL;
    size_t dlen = 0;
    FILE *ms = open_memstream(&dyn, &dlen);
    for (int i = 0; i < 100; i++) fprintf(ms, "%d,", i);
    fclose(ms);
    printf("fmemopen: %d fields %d %d %d %s; open_memstream length %zu ends with '%s'\n", k, a, b, d, w, dlen,
           dyn + dlen - 3);
    CHECK(k == 4 && dlen == 290);
    free(dyn);

    FILE *t = tmpfile();
    if (t) {
        fputs("temporary data\n", t);
        rewind(t);
        CHECK(fgets(line, sizeof line, t) != NULL);
        printf("tmpfile: %s", line);
        fclose(t);
    } else {
        printf("tmpfile: unavailable\n");
    }

    /* Buffering modes of stdout and output to stderr. */
    fflush(stdout);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("stdout is line buffered now\n");
    errno = ENOENT;
    perror("perror test");
    FILE *missing = fopen("does/not/exist.txt", "r");
    fprintf(stderr, "fopen missing: %s (%s)\n", missing ? "opened?!" : "NULL", strerror(errno));
    fprintf(stderr, "strerror(EACCES)=%s strerror(EINVAL)=%s\n", strerror(EACCES), strerror(EINVAL));
}

int main(void) {
    syscall_file_tests();
    stdio_tests();
    printf("files done, failures=%d\n", guest_failures);
    return guest_status();
}
