/* The scanner's first stage in C: which lines of a chunk may hold an indicator.
 *
 * A Filter holds 64-bit hashes of the strings the Python matcher would look for in a chunk (exact tokens, listed
 * domains for parent lookups, dotted network prefixes), each with flags saying how the string may be found.
 * Filter.lines(chunk) walks the chunk once: bytes are mapped through the same translation table as the Python pass
 * (ASCII case folded, separators become spaces), tokens are hashed from their last byte to their first so that the
 * hash of every suffix (every parent domain, every piece after an '@') is had on the way, and the first token of a
 * line that hits ends the work on that line. A hash collision only selects a line too many: the exact checks that
 * follow in Python decide. It never selects fewer lines than the Python pass (tests/scan/test_prefilter.py).
 *
 * Memory: an open-addressing table of hashes and flags (about 18 bytes per string) and a one-hash Bloom filter in
 * front of it (about two bytes per string) that rejects most tokens without touching the table. Both are written
 * while the set is built and only read afterwards, so forked workers share them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define F_PROBE 1u  /* the whole token (or a piece after '@') is looked for */
#define F_DOMAIN 2u /* a listed domain: also found as the parent of a longer name */
#define F_NET 4u    /* a dotted network prefix ("10.1.1"), found as the prefix of an address */
#define F_ALL (F_PROBE | F_DOMAIN | F_NET)

#define FNV_BASIS 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
#define LENGTHS 256

typedef struct {
    PyObject_HEAD
    uint8_t table[256];
    uint64_t *keys; /* 0 = empty slot */
    uint8_t *flags;
    uint64_t mask; /* slots - 1 */
    Py_ssize_t count;
    uint64_t *bloom;
    uint64_t bloom_mask; /* bits - 1 */
    Py_ssize_t max_len;
    uint8_t lengths[LENGTHS]; /* lengths[n] = 1 when a string of n bytes is held (n >= LENGTHS: max_len decides) */
    unsigned has; /* union of the flags held */
    int frozen;
} Filter;

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
    self->flags[j] |= (uint8_t)flag;
    self->has |= flag;
    if (length > self->max_len) self->max_len = length;
    if (length < LENGTHS) self->lengths[length] = 1;
    return 0;
}

/* The flags of a hashed string (0 when not held). */
static inline unsigned lookup(const Filter *self, uint64_t h, Py_ssize_t length) {
    if (length > self->max_len || (length < LENGTHS && !self->lengths[length])) return 0;
    uint64_t key = finish(h);
    uint64_t bit = (key >> 32) & self->bloom_mask;
    if (!(self->bloom[bit >> 6] & (1ULL << (bit & 63)))) return 0;
    uint64_t j = key & self->mask;
    while (self->keys[j] != 0) {
        if (self->keys[j] == key) return self->flags[j];
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
        if (lookup(self, h, j - start) & F_NET) return 1;
    }
    return 0;
}

/* Whether the token [start, end) of the raw chunk may hold an indicator (see the file's comment). */
static int token_hit(const Filter *self, const uint8_t *text, Py_ssize_t start, Py_ssize_t end) {
    const uint8_t *table = self->table;
    while (end > start && table[text[end - 1]] == '.') end--;
    if (end == start) return 0;
    uint64_t h = FNV_BASIS, piece = FNV_BASIS;
    int seen_at = 0, numeric = 1;
    Py_ssize_t segment_end = end; /* end of the current '@'-delimited segment */
    for (Py_ssize_t j = end - 1; j >= start; j--) {
        uint8_t c = table[text[j]];
        if (c == '.') {
            if (lookup(self, h, end - j - 1) & F_DOMAIN) return 1;
            if (seen_at && (lookup(self, piece, segment_end - j - 1) & F_DOMAIN)) return 1;
        } else if (c == '@') {
            if (lookup(self, seen_at ? piece : h, segment_end - j - 1) & (F_PROBE | F_DOMAIN)) return 1;
            if ((self->has & F_NET) && numeric && net_prefix_hit(self, text, j + 1, segment_end)) return 1;
            seen_at = 1;
            piece = FNV_BASIS;
            numeric = 1;
            segment_end = j;
            h = fnv_step(h, c);
            continue;
        }
        if (!is_net_byte(c)) numeric = 0;
        h = fnv_step(h, c);
        piece = fnv_step(piece, c);
    }
    if (lookup(self, h, end - start) & F_PROBE) return 1;
    if ((self->has & F_NET) && numeric && net_prefix_hit(self, text, start, segment_end)) return 1;
    return 0;
}

static int Filter_init(Filter *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"table", NULL};
    Py_buffer table;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*", names, &table)) return -1;
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
    free(self->keys);
    free(self->flags);
    free(self->bloom);
    self->keys = calloc(1024, sizeof(uint64_t));
    self->flags = calloc(1024, 1);
    self->bloom = NULL;
    if (self->keys == NULL || self->flags == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->mask = 1023;
    self->count = 0;
    self->max_len = 0;
    self->has = 0;
    self->frozen = 0;
    memset(self->lengths, 0, sizeof(self->lengths));
    return 0;
}

static void Filter_dealloc(Filter *self) {
    free(self->keys);
    free(self->flags);
    free(self->bloom);
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
    uint64_t bits = 1ULL << 16;
    while (bits < (uint64_t)self->count * 16 && bits < (1ULL << 30)) bits <<= 1;
    self->bloom = calloc(bits / 64, sizeof(uint64_t));
    if (self->bloom == NULL) return PyErr_NoMemory();
    self->bloom_mask = bits - 1;
    for (uint64_t i = 0; i <= self->mask; i++) {
        uint64_t key = self->keys[i];
        if (key == 0) continue;
        uint64_t bit = (key >> 32) & self->bloom_mask;
        self->bloom[bit >> 6] |= 1ULL << (bit & 63);
    }
    self->frozen = 1;
    Py_RETURN_NONE;
}

typedef struct {
    Py_ssize_t number, start, end;
} Line;

static PyObject *Filter_lines(Filter *self, PyObject *args) {
    Py_buffer chunk;
    if (!self->frozen) {
        PyErr_SetString(PyExc_RuntimeError, "freeze the filter before scanning");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "y*", &chunk)) return NULL;
    const uint8_t *text = chunk.buf;
    const uint8_t *table = self->table;
    Py_ssize_t size = chunk.len, capacity = 64, found = 0, number = 1, line_start = 0, i = 0;
    Line *lines = malloc(capacity * sizeof(Line));
    if (lines == NULL) {
        PyBuffer_Release(&chunk);
        return PyErr_NoMemory();
    }
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
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
        while (i < size && text[i] != '\n' && table[text[i]] != ' ') i++;
        if (!token_hit(self, text, start, i)) continue;
        const uint8_t *newline = memchr(text + i, '\n', (size_t)(size - i));
        Py_ssize_t line_end = newline ? newline - text : size;
        if (found == capacity) {
            capacity *= 2;
            Line *bigger = realloc(lines, capacity * sizeof(Line));
            if (bigger == NULL) {
                failed = 1;
                break;
            }
            lines = bigger;
        }
        lines[found++] = (Line){number, line_start, line_end};
        i = line_end; /* the rest of the line need not be looked at */
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&chunk);
    if (failed) {
        free(lines);
        return PyErr_NoMemory();
    }
    Py_ssize_t total = number - (size == 0 || text[size - 1] == '\n' ? 1 : 0);
    PyObject *result = PyList_New(found);
    if (result == NULL) {
        free(lines);
        return NULL;
    }
    for (Py_ssize_t k = 0; k < found; k++) {
        PyObject *item = Py_BuildValue("(nnn)", lines[k].number, lines[k].start, lines[k].end);
        if (item == NULL) {
            Py_DECREF(result);
            free(lines);
            return NULL;
        }
        PyList_SET_ITEM(result, k, item);
    }
    free(lines);
    PyObject *pair = Py_BuildValue("(nN)", total, result);
    return pair;
}

static PyObject *Filter_len(Filter *self, PyObject *Py_UNUSED(ignored)) { return PyLong_FromSsize_t(self->count); }

static PyMethodDef Filter_methods[] = {
    {"add", (PyCFunction)Filter_add, METH_VARARGS, "add(keys, flag): hold each bytes key with the flag."},
    {"freeze", (PyCFunction)Filter_freeze, METH_NOARGS, "freeze(): build the Bloom filter; no add afterwards."},
    {"lines", (PyCFunction)Filter_lines, METH_VARARGS,
     "lines(chunk) -> (number of lines, [(line number from 1, start, end)] of the lines that may hold a held string)."},
    {"size", (PyCFunction)Filter_len, METH_NOARGS, "size() -> the number of distinct strings held."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject FilterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "herdsec.scan._prefilter.Filter",
    .tp_basicsize = sizeof(Filter),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Filter(table): hashed strings to look for in chunks of log lines.",
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
    Py_INCREF(&FilterType);
    if (PyModule_AddObject(m, "Filter", (PyObject *)&FilterType) < 0 || PyModule_AddIntConstant(m, "PROBE", F_PROBE) < 0 ||
        PyModule_AddIntConstant(m, "DOMAIN", F_DOMAIN) < 0 || PyModule_AddIntConstant(m, "NET", F_NET) < 0) {
        Py_DECREF(&FilterType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
