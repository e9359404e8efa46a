/* The scanner's first stage in C: which lines of a chunk may hold an indicator.
 *
 * A Filter holds 64-bit hashes of the strings the Python matcher would look for in a chunk (exact tokens, listed
 * domains for parent lookups, dotted network prefixes), each with flags saying how the string may be found.
 * Filter.lines(chunk) walks the chunk once, 64 bytes at a time where SSE2 is there (a classifier checked at start
 * against the translation table the Python pass uses: ASCII case folded, separators become spaces), one byte at a
 * time otherwise. Tokens are hashed from their last byte to their first so that the hash of every suffix (every
 * parent domain, every piece after an '@') is had on the way; the first token of a line that hits ends the work on
 * that line. A hash collision only selects a line too many: the exact checks that follow in Python decide. Every line
 * on which those checks find a match is selected (tests/scan/test_prefilter.py checks this against the exact checks
 * run on every line, and the two scans against each other).
 *
 * Memory: an open-addressing table of hashes and flags (18 to 36 bytes per string) and, in front of it, one Bloom
 * filter per class of string (two bits in one 64-bit word per string, about one byte per string; classes by use and
 * by shape, see CLASSES) that rejects most tokens without touching the table. All are written while the set is built and only read afterwards, so forked workers
 * share them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#define HAVE_SSE2 1
#else
#define HAVE_SSE2 0
#endif

#define F_PROBE 1u  /* the whole token (or a piece after '@') is looked for */
#define F_DOMAIN 2u /* a listed domain: also found as the parent of a longer name */
#define F_NET 4u    /* a dotted network prefix ("10.1.1"), found as the prefix of an address */
#define F_ALL (F_PROBE | F_DOMAIN | F_NET)

#define FNV_BASIS 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
#define LENGTHS 256
#ifndef BLOOM_BITS
#define BLOOM_BITS 8
#endif

/* What is held of one flag: a one-hash Bloom filter sized to it (the network prefixes' stays in L1 or L2) and the
 * lengths of its strings. */
typedef struct {
    uint64_t *bloom;
    uint64_t bloom_mask; /* words - 1 */
    Py_ssize_t count, max_len;
    uint8_t lengths[LENGTHS]; /* lengths[n] = 1 when a string of n bytes is held (n >= LENGTHS: max_len decides) */
} Class;

/* Classes: whole values are split by shape so that the common short and numeric tokens of logs test small Bloom
 * filters: WORD (dotted: names, e-mail addresses), HEXLET (no '.' or '@', at most 4 hex digits: IPv6 groups, but also
 * ports, times, short words), DOTLESS (any other value without a dot: hashes), NUMERIC (dotted, last label all
 * digits: addresses, but also versions and fractional times). */
#define WORD_CLASS 0
#define DOMAIN_CLASS 1
#define NET_CLASS 2
#define HEXLET_CLASS 3
#define NUMERIC_CLASS 4
#define DOTLESS_CLASS 5
#define CLASSES 6
_Static_assert(F_PROBE == 1u << WORD_CLASS && F_DOMAIN == 1u << DOMAIN_CLASS && F_NET == 1u << NET_CLASS,
               "the stored bits of a key are 1 << its class");

typedef struct {
    PyObject_HEAD
    uint8_t table[256];
    uint64_t *keys; /* 0 = empty slot */
    uint8_t *flags;
    uint64_t mask; /* slots - 1 */
    Py_ssize_t count;
    Class classes[CLASSES];
    Py_ssize_t max_len; /* of every string held */
    unsigned has;       /* union of the flags held */
    int numeric_domain; /* a listed domain ends in an all-digit label (never, for normalised domains) */
    int frozen;
    int simd; /* 1 when the SSE2 classifier reproduces the table (checked at init) and was not refused */
} Filter;

#if HAVE_SSE2
static int classifier_matches(const uint8_t *table);
#endif

static inline uint64_t fnv_step(uint64_t h, uint8_t c) { return (h ^ c) * FNV_PRIME; }

static inline uint64_t finish(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h ? h : 1;
}

static int grow(Filter *self) {
    uint64_t slots = (self->mask + 1) * 2;
    uint64_t *keys = calloc(slots, sizeof(uint64_t));
    uint8_t *flags = calloc(slots, 1);
    if (keys == NULL || flags == NULL) {
        free(keys);
        free(flags);
        PyErr_NoMemory();
        return -1;
    }
    for (uint64_t i = 0; i <= self->mask; i++) {
        uint64_t key = self->keys[i];
        if (key == 0) continue;
        uint64_t j = key & (slots - 1);
        while (keys[j] != 0) j = (j + 1) & (slots - 1);
        keys[j] = key;
        flags[j] = self->flags[i];
    }
    free(self->keys);
    free(self->flags);
    self->keys = keys;
    self->flags = flags;
    self->mask = slots - 1;
    return 0;
}

static inline int is_hex(uint8_t c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

/* The class of a whole value (F_PROBE) by its shape; the scan classifies a token by the same rule. */
static int probe_class(const uint8_t *table, const uint8_t *text, Py_ssize_t length) {
    Py_ssize_t last_dot = -1;
    int at = 0, hex = 1;
    for (Py_ssize_t i = 0; i < length; i++) {
        uint8_t c = table[text[i]];
        if (c == '.') last_dot = i;
        if (c == '@') at = 1;
        if (!is_hex(c)) hex = 0;
    }
    if (last_dot < 0) return !at && hex && length >= 1 && length <= 4 ? HEXLET_CLASS : DOTLESS_CLASS;
    if (last_dot == length - 1) return WORD_CLASS;
    for (Py_ssize_t i = last_dot + 1; i < length; i++) {
        uint8_t c = table[text[i]];
        if (c < '0' || c > '9') return WORD_CLASS;
    }
    return NUMERIC_CLASS;
}

static int insert(Filter *self, const uint8_t *text, Py_ssize_t length, unsigned flag) {
    if ((uint64_t)(self->count + 1) * 2 > self->mask + 1 && grow(self) < 0) return -1;
    uint64_t h = FNV_BASIS;
    for (Py_ssize_t i = length - 1; i >= 0; i--) h = fnv_step(h, self->table[text[i]]);
    uint64_t key = finish(h);
    uint64_t j = key & self->mask;
    while (self->keys[j] != 0 && self->keys[j] != key) j = (j + 1) & self->mask;
    if (self->keys[j] == 0) {
        self->keys[j] = key;
        self->count++;
    }
    /* stored bits: 1 << class (a whole value's bit is that of its shape's class) */
    unsigned bits = (flag & (F_DOMAIN | F_NET)) | (flag & F_PROBE ? 1u << probe_class(self->table, text, length) : 0);
    for (int k = 0; k < CLASSES; k++) {
        if (!(bits & (1u << k)) || (self->flags[j] & (1u << k))) continue;
        Class *class = &self->classes[k];
        class->count++;
        if (length > class->max_len) class->max_len = length;
        if (length < LENGTHS) class->lengths[length] = 1;
    }
    self->flags[j] |= (uint8_t)bits;
    self->has |= flag;
    if (length > self->max_len) self->max_len = length;
    if (flag & F_DOMAIN) {
        Py_ssize_t i = length;
        while (i > 0 && text[i - 1] >= '0' && text[i - 1] <= '9') i--;
        if (i < length && (i == 0 || text[i - 1] == '.')) self->numeric_domain = 1;
    }
    return 0;
}

/* The two bits a key sets in its 64-bit word of a Bloom filter (both in one word: one cache line per test). */
static inline uint64_t bloom_bits(uint64_t key) { return (1ULL << (key >> 58)) | (1ULL << ((key >> 52) & 63)); }

/* Whether a hashed string of `length` bytes is held in class k. */
static inline int held(const Filter *self, uint64_t h, Py_ssize_t length, int k) {
    const Class *class = &self->classes[k];
    if (length > class->max_len || (length < LENGTHS && !class->lengths[length])) return 0;
    uint64_t key = finish(h), bits = bloom_bits(key);
    if ((class->bloom[(key >> 32) & class->bloom_mask] & bits) != bits) return 0;
    uint64_t j = key & self->mask;
    while (self->keys[j] != 0) {
        if (self->keys[j] == key) return (self->flags[j] >> k) & 1;
        j = (j + 1) & self->mask;
    }
    return 0;
}

static inline int is_net_byte(uint8_t c) { return c == '.' || (c >= '0' && c <= '9'); }

/* Whether a dotted-decimal segment [start, end) (an address, or the piece of one after '@') has a listed network
 * prefix: the text before each of its last three dots. */
static int net_prefix_hit(const Filter *self, const uint8_t *text, Py_ssize_t start, Py_ssize_t end) {
    int dots = 0;
    for (Py_ssize_t j = end - 1; j > start && dots < 3; j--) {
        if (self->table[text[j]] != '.') continue;
        dots++;
        uint64_t h = FNV_BASIS;
        for (Py_ssize_t k = j - 1; k >= start; k--) h = fnv_step(h, self->table[text[k]]);
        if (held(self, h, j - start, NET_CLASS)) return 1;
    }
    return 0;
}

/* Whether the token [start, end) of the raw chunk may hold an indicator (see the file's comment). */
static int token_hit(const Filter *self, const uint8_t *text, Py_ssize_t start, Py_ssize_t end) {
    const uint8_t *table = self->table;
    while (end > start && table[text[end - 1]] == '.') end--;
    if (end == start) return 0;
    uint64_t h = FNV_BASIS, piece = FNV_BASIS;
    int seen_at = 0, numeric = 1, parents = 1, first_dot = 1, hex = 1, numeric_last = 0;
    Py_ssize_t segment_end = end; /* end of the current '@'-delimited segment */
    for (Py_ssize_t j = end - 1; j >= start; j--) {
        uint8_t c = table[text[j]];
        if (c == '.') {
            if (first_dot) { /* the last label is all digits (an address, a time): no listed domain ends so */
                first_dot = 0;
                parents = !numeric || self->numeric_domain;
                numeric_last = numeric && !seen_at && j < end - 1;
            }
            if (parents && held(self, h, end - j - 1, DOMAIN_CLASS)) return 1;
            if (seen_at && held(self, piece, segment_end - j - 1, DOMAIN_CLASS)) return 1;
        } else if (c == '@') {
            Py_ssize_t length = segment_end - j - 1;
            uint64_t hashed = seen_at ? piece : h;
            if (held(self, hashed, length, WORD_CLASS) || held(self, hashed, length, HEXLET_CLASS) ||
                held(self, hashed, length, NUMERIC_CLASS) || held(self, hashed, length, DOTLESS_CLASS) ||
                held(self, hashed, length, DOMAIN_CLASS))
                return 1;
            if ((self->has & F_NET) && numeric && net_prefix_hit(self, text, j + 1, segment_end)) return 1;
            seen_at = 1;
            piece = FNV_BASIS;
            numeric = 1;
            segment_end = j;
            h = fnv_step(h, c);
            continue;
        }
        if (!is_net_byte(c)) numeric = 0;
        if (!is_hex(c)) hex = 0;
        h = fnv_step(h, c);
        if (seen_at) piece = fnv_step(piece, c); /* before the first '@' the piece is the suffix: h */
    }
    int class = first_dot ? (!seen_at && hex && end - start <= 4 ? HEXLET_CLASS : DOTLESS_CLASS)
                          : (numeric_last ? NUMERIC_CLASS : WORD_CLASS);
    if (held(self, h, end - start, class)) return 1;
    if ((self->has & F_NET) && numeric && net_prefix_hit(self, text, start, segment_end)) return 1;
    return 0;
}

static int Filter_init(Filter *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"table", "simd", NULL};
    Py_buffer table;
    int simd = 1;
    if (self->keys != NULL) { /* a second __init__ would free what a scan without the GIL may be reading */
        PyErr_SetString(PyExc_RuntimeError, "the filter is already initialised");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*|$p", names, &table, &simd)) return -1;
    if (table.len != 256) {
        PyBuffer_Release(&table);
        PyErr_SetString(PyExc_ValueError, "the translation table must have 256 bytes");
        return -1;
    }
    memcpy(self->table, table.buf, 256);
    PyBuffer_Release(&table);
    if (self->table['\n'] != ' ' || self->table['.'] != '.' || self->table['@'] != '@') {
        PyErr_SetString(PyExc_ValueError, "the table must map newlines to spaces and keep '.' and '@'");
        return -1;
    }
    memset(self->classes, 0, sizeof(self->classes));
    uint64_t *keys = calloc(1024, sizeof(uint64_t));
    uint8_t *flags = calloc(1024, 1);
    if (keys == NULL || flags == NULL) {
        free(keys);
        free(flags);
        PyErr_NoMemory();
        return -1;
    }
    self->keys = keys;
    self->flags = flags;
    self->mask = 1023;
    self->count = 0;
    self->max_len = 0;
    self->has = 0;
    self->numeric_domain = 0;
    self->frozen = 0;
#if HAVE_SSE2
    self->simd = simd && classifier_matches(self->table);
#else
    (void)simd;
    self->simd = 0;
#endif
    return 0;
}

static void Filter_dealloc(Filter *self) {
    free(self->keys);
    free(self->flags);
    for (int k = 0; k < CLASSES; k++) free(self->classes[k].bloom);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Filter_add(Filter *self, PyObject *args) {
    PyObject *keys;
    unsigned int flag;
    if (!PyArg_ParseTuple(args, "OI", &keys, &flag)) return NULL;
    if (self->keys == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the filter is not initialised");
        return NULL;
    }
    if (self->frozen) {
        PyErr_SetString(PyExc_RuntimeError, "the filter is frozen");
        return NULL;
    }
    if (flag == 0 || (flag & ~F_ALL)) {
        PyErr_SetString(PyExc_ValueError, "unknown flag");
        return NULL;
    }
    PyObject *iterator = PyObject_GetIter(keys);
    if (iterator == NULL) return NULL;
    PyObject *item;
    while ((item = PyIter_Next(iterator)) != NULL) {
        char *text;
        Py_ssize_t length;
        if (PyBytes_AsStringAndSize(item, &text, &length) < 0 || insert(self, (const uint8_t *)text, length, flag) < 0) {
            Py_DECREF(item);
            Py_DECREF(iterator);
            return NULL;
        }
        Py_DECREF(item);
    }
    Py_DECREF(iterator);
    if (PyErr_Occurred()) return NULL;
    Py_RETURN_NONE;
}

static PyObject *Filter_freeze(Filter *self, PyObject *Py_UNUSED(ignored)) {
    if (self->keys == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the filter is not initialised");
        return NULL;
    }
    if (self->frozen) Py_RETURN_NONE;
    for (int k = 0; k < CLASSES; k++) {
        Class *class = &self->classes[k];
        uint64_t words = 64; /* about BLOOM_BITS bits per string, in whole 64-bit words (at most 2^20 words) */
        while (words * 64 < (uint64_t)class->count * BLOOM_BITS && words < (1ULL << 20)) words <<= 1;
        class->bloom = calloc(words, sizeof(uint64_t));
        if (class->bloom == NULL) return PyErr_NoMemory();
        class->bloom_mask = words - 1;
        for (uint64_t i = 0; i <= self->mask; i++) {
            uint64_t key = self->keys[i];
            if (key == 0 || !(self->flags[i] & (1u << k))) continue;
            class->bloom[(key >> 32) & class->bloom_mask] |= bloom_bits(key);
        }
    }
    self->frozen = 1;
    Py_RETURN_NONE;
}

typedef struct {
    Py_ssize_t number, start, end;
} Line;

typedef struct {
    Line *items;
    Py_ssize_t count, capacity;
} Lines;

static int push(Lines *lines, Py_ssize_t number, Py_ssize_t start, Py_ssize_t end) {
    if (lines->count == lines->capacity) {
        Py_ssize_t capacity = lines->capacity ? lines->capacity * 2 : 64;
        Line *bigger = realloc(lines->items, (size_t)capacity * sizeof(Line));
        if (bigger == NULL) return -1;
        lines->items = bigger;
        lines->capacity = capacity;
    }
    lines->items[lines->count++] = (Line){number, start, end};
    return 0;
}

/* Newlines in [from, to), and the position after the last of them (or `from` when there is none) in *after. */
static Py_ssize_t newlines(const uint8_t *text, Py_ssize_t from, Py_ssize_t to, Py_ssize_t *after) {
    Py_ssize_t count = 0;
    *after = from;
    const uint8_t *p = text + from, *end = text + to;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        count++;
        *after = ++p - text;
    }
    return count;
}

/* The reference scan, one byte at a time. */
static int scan_bytes(const Filter *self, const uint8_t *text, Py_ssize_t size, Lines *out) {
    const uint8_t *table = self->table;
    Py_ssize_t number = 1, line_start = 0, i = 0;
    while (i < size) {
        uint8_t raw = text[i];
        if (raw == '\n') {
            number++;
            line_start = ++i;
            continue;
        }
        if (table[raw] == ' ') {
            i++;
            continue;
        }
        Py_ssize_t start = i;
        while (i < size && table[text[i]] != ' ') i++;
        if (!token_hit(self, text, start, i)) continue;
        const uint8_t *newline = memchr(text + i, '\n', (size_t)(size - i));
        Py_ssize_t line_end = newline ? newline - text : size;
        if (push(out, number, line_start, line_end) < 0) return -1;
        i = line_end; /* the rest of the line need not be looked at */
    }
    return 0;
}

/* A token of the fast scan: a token without '.' or '@' can only be held whole, so its length alone may reject it
 * before any hashing. */
static inline int fast_token_hit(const Filter *self, const uint8_t *text, Py_ssize_t start, Py_ssize_t end, int dotted) {
    Py_ssize_t length = end - start;
    if (!dotted) { /* a whole value of the dotless or hexlet class, nothing else */
        const Class *words = &self->classes[DOTLESS_CLASS], *hexlets = &self->classes[HEXLET_CLASS];
        int word = length <= words->max_len && (length >= LENGTHS || words->lengths[length]);
        int hexlet = length <= hexlets->max_len && hexlets->lengths[length];
        if (!word && !hexlet) return 0;
    }
    return token_hit(self, text, start, end);
}

#if HAVE_SSE2
/* Bit i of *tokens: byte i of the 64 is a token byte (as the table says, checked at init); of *dots: '.' or '@'. */
static inline void classify64(const uint8_t *block, uint64_t *tokens, uint64_t *dots) {
    const __m128i below_a = _mm_set1_epi8('a' - 1), above_z = _mm_set1_epi8('z' + 1);
    const __m128i below_0 = _mm_set1_epi8('0' - 1), above_9 = _mm_set1_epi8('9' + 1), case_bit = _mm_set1_epi8(0x20);
    const __m128i dot = _mm_set1_epi8('.'), at = _mm_set1_epi8('@'), underscore = _mm_set1_epi8('_');
    const __m128i dash = _mm_set1_epi8('-'), plus = _mm_set1_epi8('+');
    uint64_t t = 0, d = 0;
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(block + 16 * k));
        __m128i lower = _mm_or_si128(v, case_bit);
        __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(lower, below_a), _mm_cmplt_epi8(lower, above_z));
        __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, below_0), _mm_cmplt_epi8(v, above_9));
        __m128i dotted = _mm_or_si128(_mm_cmpeq_epi8(v, dot), _mm_cmpeq_epi8(v, at));
        __m128i other = _mm_or_si128(_mm_cmpeq_epi8(v, underscore),
                                     _mm_or_si128(_mm_cmpeq_epi8(v, dash), _mm_cmpeq_epi8(v, plus)));
        __m128i token = _mm_or_si128(_mm_or_si128(letter, digit), _mm_or_si128(dotted, other));
        uint64_t tm = (uint64_t)(uint16_t)(_mm_movemask_epi8(token) | _mm_movemask_epi8(v)); /* sign bit: >= 0x80 */
        t |= tm << (16 * k);
        d |= (uint64_t)(uint16_t)_mm_movemask_epi8(dotted) << (16 * k);
    }
    *tokens = t;
    *dots = d;
}

/* Whether the classifier says of every byte what the table says. */
static int classifier_matches(const uint8_t *table) {
    uint8_t bytes[256];
    for (int c = 0; c < 256; c++) bytes[c] = (uint8_t)c;
    for (int c = 0; c < 256; c += 64) {
        uint64_t tokens, dots;
        classify64(bytes + c, &tokens, &dots);
        for (int k = 0; k < 64; k++) {
            int token = (int)((tokens >> k) & 1), expected = table[c + k] != ' ';
            if (token != expected) return 0;
        }
    }
    return 1;
}

/* The scan 64 bytes at a time: tokens found by bit masks, line numbers counted only for lines that hit. */
static int scan_blocks(const Filter *self, const uint8_t *text, Py_ssize_t size, Lines *out) {
    uint8_t pad[64];
    Py_ssize_t base = 0, open = -1, counted = 0, number = 1, line_start = 0;
    Py_ssize_t hit_start = -1, hit_end = 0;
    while (base < size) {
        const uint8_t *block = text + base;
        if (size - base < 64) {
            memset(pad, 0, sizeof(pad)); /* zero bytes separate */
            memcpy(pad, text + base, (size_t)(size - base));
            block = pad;
        }
        uint64_t tokens, dots;
        classify64(block, &tokens, &dots);
        uint64_t pending = tokens;
        hit_start = -1;
        if (open >= 0) {
            uint64_t separators = ~tokens;
            if (separators == 0) {
                base += 64;
                continue;
            }
            int e = __builtin_ctzll(separators);
            if (token_hit(self, text, open, base + e)) {
                hit_start = open;
                hit_end = base + e;
            }
            open = -1;
            pending &= ~0ULL << e;
        }
        while (hit_start < 0 && pending) {
            int s = __builtin_ctzll(pending);
            uint64_t separators = ~tokens & (~0ULL << s);
            if (separators == 0) {
                open = base + s;
                break;
            }
            int e = __builtin_ctzll(separators);
            uint64_t span = ((1ULL << (e - s)) - 1) << s;
            if (fast_token_hit(self, text, base + s, base + e, (dots & span) != 0)) {
                hit_start = base + s;
                hit_end = base + e;
                break;
            }
            pending = tokens & (~0ULL << e);
        }
        if (hit_start < 0) {
            base += 64;
            continue;
        }
        Py_ssize_t after;
        Py_ssize_t count = newlines(text, counted, hit_start, &after);
        if (count) line_start = after;
        number += count;
        counted = hit_start;
        const uint8_t *newline = memchr(text + hit_end, '\n', (size_t)(size - hit_end));
        Py_ssize_t line_end = newline ? newline - text : size;
        if (push(out, number, line_start, line_end) < 0) return -1;
        open = -1;
        base = line_end; /* the rest of the line need not be looked at; the newline itself separates */
    }
    if (open >= 0 && token_hit(self, text, open, size)) {
        Py_ssize_t after;
        Py_ssize_t count = newlines(text, counted, open, &after);
        if (count) line_start = after;
        if (push(out, number + count, line_start, size) < 0) return -1;
    }
    return 0;
}
#endif

static PyObject *Filter_lines(Filter *self, PyObject *args) {
    Py_buffer chunk;
    if (!self->frozen) {
        PyErr_SetString(PyExc_RuntimeError, "freeze the filter before scanning");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "y*", &chunk)) return NULL;
    const uint8_t *text = chunk.buf;
    Py_ssize_t size = chunk.len, after;
    Lines lines = {NULL, 0, 0};
    int failed;
    Py_ssize_t total;
    Py_BEGIN_ALLOW_THREADS
#if HAVE_SSE2
    failed = self->simd ? scan_blocks(self, text, size, &lines) : scan_bytes(self, text, size, &lines);
#else
    failed = scan_bytes(self, text, size, &lines);
#endif
    total = newlines(text, 0, size, &after) + (size > 0 && text[size - 1] != '\n' ? 1 : 0);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&chunk);
    if (failed) {
        free(lines.items);
        return PyErr_NoMemory();
    }
    PyObject *result = PyList_New(lines.count);
    if (result == NULL) {
        free(lines.items);
        return NULL;
    }
    for (Py_ssize_t k = 0; k < lines.count; k++) {
        PyObject *item = Py_BuildValue("(nnn)", lines.items[k].number, lines.items[k].start, lines.items[k].end);
        if (item == NULL) {
            Py_DECREF(result);
            free(lines.items);
            return NULL;
        }
        PyList_SET_ITEM(result, k, item);
    }
    free(lines.items);
    return Py_BuildValue("(nN)", total, result);
}

static PyObject *Filter_spans(Filter *self, PyObject *args) {
    Py_buffer line;
    if (!self->frozen) {
        PyErr_SetString(PyExc_RuntimeError, "freeze the filter before scanning");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "y*", &line)) return NULL;
    const uint8_t *text = line.buf, *table = self->table;
    Py_ssize_t size = line.len, i = 0;
    PyObject *result = PyList_New(0);
    while (result != NULL && i < size) {
        if (table[text[i]] == ' ') {
            i++;
            continue;
        }
        Py_ssize_t start = i;
        while (i < size && table[text[i]] != ' ') i++;
        if (!token_hit(self, text, start, i)) continue;
        PyObject *span = Py_BuildValue("(nn)", start, i);
        if (span == NULL || PyList_Append(result, span) < 0) Py_CLEAR(result);
        Py_XDECREF(span);
    }
    PyBuffer_Release(&line);
    return result;
}

static PyObject *Filter_simd(Filter *self, PyObject *Py_UNUSED(ignored)) { return PyBool_FromLong(self->simd); }

static PyObject *Filter_len(Filter *self, PyObject *Py_UNUSED(ignored)) { return PyLong_FromSsize_t(self->count); }

static PyMethodDef Filter_methods[] = {
    {"add", (PyCFunction)Filter_add, METH_VARARGS, "add(keys, flag): hold each bytes key with the flag."},
    {"freeze", (PyCFunction)Filter_freeze, METH_NOARGS, "freeze(): build the Bloom filter; no add afterwards."},
    {"lines", (PyCFunction)Filter_lines, METH_VARARGS,
     "lines(chunk) -> (number of lines, [(line number from 1, start, end)] of the lines that may hold a held string)."},
    {"size", (PyCFunction)Filter_len, METH_NOARGS, "size() -> the number of distinct strings held."},
    {"spans", (PyCFunction)Filter_spans, METH_VARARGS,
     "spans(line) -> [(start, end)] of every token of the line that may hold a held string."},
    {"simd", (PyCFunction)Filter_simd, METH_NOARGS, "simd() -> whether chunks are scanned 64 bytes at a time."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject FilterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "herdsec.scan._prefilter.Filter",
    .tp_basicsize = sizeof(Filter),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Filter(table, *, simd=True): hashed strings to look for in chunks of log lines.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Filter_init,
    .tp_dealloc = (destructor)Filter_dealloc,
    .tp_methods = Filter_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "herdsec.scan._prefilter", "The scanner's first stage, compiled.", -1, NULL,
};

PyMODINIT_FUNC PyInit__prefilter(void) {
    if (PyType_Ready(&FilterType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "Filter", (PyObject *)&FilterType) < 0 ||
        PyModule_AddIntConstant(m, "PROBE", F_PROBE) < 0 || PyModule_AddIntConstant(m, "DOMAIN", F_DOMAIN) < 0 ||
        PyModule_AddIntConstant(m, "NET", F_NET) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
