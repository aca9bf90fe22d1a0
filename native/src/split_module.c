/* Was the module holding a function built with -fsplit-stack? The compilers
   mark every such object with an empty .note.GNU-split-stack section, and
   gold and lld carry it into the linked module (as a section the loader does
   not map). So the answer is read once per module from its file, and kept:
   a goroutine entry in a module without the mark must not start on a 2 KiB
   segment, whose limit its prologue would never check. */
#define _GNU_SOURCE
#include "segment.h"

#if SP_HAVE_SEGMENTS

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MODULE_CACHE = 64 };

typedef struct module_answer {
    uintptr_t lo, hi;   /* the module's mapped range */
    int split;
} module_answer;

/* Entries are written once, then published by the count, so lookups take no
   lock. A process that loads more modules than this reads the file for the
   rest each time. (A module unloaded and another loaded at its address keeps
   the first one's answer: goroutine modules are not expected to be unloaded.) */
static sp_lock cache_lock;
static module_answer cache[MODULE_CACHE];
static int cache_used;
static SP_THREAD_LOCAL module_answer tls_last;

typedef struct module_query {
    uintptr_t addr;
    uintptr_t lo, hi;
    char path[4096];
    int found;
} module_query;

static int find_module(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    module_query *q = data;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (start < lo)
            lo = start;
        if (start + ph->p_memsz > hi)
            hi = start + ph->p_memsz;
    }
    if (q->addr < lo || q->addr >= hi)
        return 0;
    q->lo = lo;
    q->hi = hi;
    /* The main program has an empty name. */
    const char *name = info->dlpi_name != NULL && info->dlpi_name[0] != '\0'
                           ? info->dlpi_name : "/proc/self/exe";
    strncpy(q->path, name, sizeof q->path - 1);
    q->found = 1;
    return 1;
}

static int read_at(int fd, void *buf, size_t n, off_t at)
{
    return pread(fd, buf, n, at) == (ssize_t)n;
}

/* 1 when the ELF file has a section named .note.GNU-split-stack. */
static int file_has_split_note(const char *path)
{
    static const char wanted[] = ".note.GNU-split-stack";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int found = 0;
    ElfW(Ehdr) eh;
    ElfW(Shdr) strtab;
    if (read_at(fd, &eh, sizeof eh, 0) && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
        eh.e_shentsize == sizeof(ElfW(Shdr)) && eh.e_shstrndx < eh.e_shnum &&
        read_at(fd, &strtab, sizeof strtab,
                (off_t)(eh.e_shoff + (ElfW(Off))eh.e_shstrndx * sizeof strtab))) {
        for (unsigned i = 0; i < eh.e_shnum && !found; i++) {
            ElfW(Shdr) sh;
            char name[sizeof wanted];
            if (!read_at(fd, &sh, sizeof sh, (off_t)(eh.e_shoff + i * sizeof sh)))
                break;
            if (sh.sh_name >= strtab.sh_size)
                continue;
            size_t n = strtab.sh_size - sh.sh_name < sizeof name ? strtab.sh_size - sh.sh_name
                                                                 : sizeof name;
            memset(name, 1, sizeof name);
            if (read_at(fd, name, n, (off_t)(strtab.sh_offset + sh.sh_name)) &&
                memcmp(name, wanted, sizeof wanted) == 0)
                found = 1;
        }
    }
    close(fd);
    return found;
}

int sp_function_is_split(const void *fn)
{
    uintptr_t addr = (uintptr_t)fn;
    if (addr >= tls_last.lo && addr < tls_last.hi)
        return tls_last.split;
    int used = __atomic_load_n(&cache_used, __ATOMIC_ACQUIRE);
    for (int i = 0; i < used; i++) {
        if (addr >= cache[i].lo && addr < cache[i].hi) {
            tls_last = cache[i];
            return cache[i].split;
        }
    }

    module_query q;
    memset(&q, 0, sizeof q);
    q.addr = addr;
    dl_iterate_phdr(find_module, &q);
    if (!q.found)
        return 0; /* generated code, or no module at all: not split-stack */
    int split = file_has_split_note(q.path);

    module_answer answer = { q.lo, q.hi, split };
    tls_last = answer;
    sp_lock_acquire(&cache_lock);
    used = cache_used;
    if (used < MODULE_CACHE) {
        cache[used] = answer;
        __atomic_store_n(&cache_used, used + 1, __ATOMIC_RELEASE);
    }
    sp_lock_release(&cache_lock);
    return split;
}

#else

int sp_function_is_split(const void *fn)
{
    (void)fn;
    return 0;
}

#endif
