/* How was the module holding a function built? The compilers mark every
   object built with -fsplit-stack with an empty .note.GNU-split-stack
   section, which gold and lld carry into the linked module (as a section the
   loader does not map) and GNU ld drops; Spindle's __morestack object adds
   its own marker section (SP_MORESTACK_MARKER), which every linker keeps.
   The answer is read once per module from its file, and kept: a goroutine
   entry starts on a 2 KiB segment only when both are there, since code
   whose prologues never check the limit, or call another __morestack
   (libgcc's, which grows the stack behind Spindle's back), or were linked
   without the extra room for calls into libc, would run past it. */
#define _GNU_SOURCE
#include "segment.h"

#if SP_HAVE_SEGMENTS

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MODULE_CACHE = 64 };

typedef struct module_answer {
    uintptr_t lo, hi;   /* the module's mapped range */
    int status;         /* sp_split_status */
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

/* The file, mapped; every read is checked against its size. */
typedef struct elf_file {
    const unsigned char *bytes;
    size_t size;
} elf_file;

static const void *at(const elf_file *f, uint64_t offset, uint64_t n)
{
    return offset <= f->size && n <= f->size - offset ? f->bytes + offset : NULL;
}

/* 1 when the string table section strtab holds name at offset. */
static int name_is(const elf_file *f, const ElfW(Shdr) *strtab, uint64_t offset, const char *name)
{
    size_t n = strlen(name) + 1;
    const char *s = offset < strtab->sh_size && n <= strtab->sh_size - offset
                        ? at(f, strtab->sh_offset + offset, n) : NULL;
    return s != NULL && memcmp(s, name, n) == 0;
}

/* 1 when the symbol table section symtab defines or uses name. */
static int symtab_has(const elf_file *f, const ElfW(Shdr) *shdrs, unsigned count,
                      const ElfW(Shdr) *symtab, const char *name)
{
    if (symtab->sh_link >= count || symtab->sh_entsize != sizeof(ElfW(Sym)))
        return 0;
    const ElfW(Sym) *syms = at(f, symtab->sh_offset, symtab->sh_size);
    if (syms == NULL)
        return 0;
    for (uint64_t i = 0; i < symtab->sh_size / sizeof *syms; i++)
        if (name_is(f, &shdrs[symtab->sh_link], syms[i].st_name, name))
            return 1;
    return 0;
}

static int file_status(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return SP_SPLIT_NONE;
    struct stat st;
    elf_file f = { NULL, 0 };
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
        void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map != MAP_FAILED)
            f = (elf_file){ map, (size_t)st.st_size };
    }
    close(fd);
    if (f.bytes == NULL)
        return SP_SPLIT_NONE;

    int note = 0, marker = 0, morestack = 0;
    const ElfW(Ehdr) *eh = at(&f, 0, sizeof *eh);
    const ElfW(Shdr) *shdrs = NULL;
    if (eh != NULL && memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 &&
        eh->e_shentsize == sizeof(ElfW(Shdr)) && eh->e_shstrndx < eh->e_shnum)
        shdrs = at(&f, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof *shdrs);
    if (shdrs != NULL) {
        const ElfW(Shdr) *names = &shdrs[eh->e_shstrndx];
        const ElfW(Shdr) *symtab = NULL;
        for (unsigned i = 0; i < eh->e_shnum; i++) {
            note |= name_is(&f, names, shdrs[i].sh_name, ".note.GNU-split-stack");
            marker |= name_is(&f, names, shdrs[i].sh_name, SP_MORESTACK_MARKER);
            if (shdrs[i].sh_type == SHT_SYMTAB)
                symtab = &shdrs[i];
        }
        /* GNU ld drops the note: only split-stack code calls __morestack. */
        if (!note && !marker && symtab != NULL)
            morestack = symtab_has(&f, shdrs, eh->e_shnum, symtab, "__morestack");
    }
    munmap((void *)f.bytes, f.size);
    if (note && marker)
        return SP_SPLIT_SPINDLE;
    if (marker)
        return SP_SPLIT_GNU_LD;
    return note || morestack ? SP_SPLIT_FOREIGN_MORESTACK : SP_SPLIT_NONE;
}

static int module_status(const void *fn)
{
    uintptr_t addr = (uintptr_t)fn;
    if (addr >= tls_last.lo && addr < tls_last.hi)
        return tls_last.status;
    int used = __atomic_load_n(&cache_used, __ATOMIC_ACQUIRE);
    for (int i = 0; i < used; i++) {
        if (addr >= cache[i].lo && addr < cache[i].hi) {
            tls_last = cache[i];
            return cache[i].status;
        }
    }

    module_query q;
    memset(&q, 0, sizeof q);
    q.addr = addr;
    dl_iterate_phdr(find_module, &q);
    if (!q.found)
        return SP_SPLIT_NONE; /* generated code, or no module at all */
    int status = file_status(q.path);

    module_answer answer = { q.lo, q.hi, status };
    tls_last = answer;
    sp_lock_acquire(&cache_lock);
    used = cache_used;
    if (used < MODULE_CACHE) {
        cache[used] = answer;
        __atomic_store_n(&cache_used, used + 1, __ATOMIC_RELEASE);
    }
    sp_lock_release(&cache_lock);
    return status;
}

int sp_function_is_split(const void *fn)
{
    return module_status(fn) == SP_SPLIT_SPINDLE;
}

int sp_split_stack_status(sp_fn fn)
{
    return fn != NULL ? module_status((const void *)fn) : SP_SPLIT_NONE;
}

#else

int sp_function_is_split(const void *fn)
{
    (void)fn;
    return 0;
}

int sp_split_stack_status(sp_fn fn)
{
    (void)fn;
    return SP_SPLIT_NONE;
}

#endif
