package envsite

/*
#include <stdlib.h>

// Declared by the tree-sitter core that go-tree-sitter compiles in.
extern void ts_set_allocator(
	void *(*new_malloc)(size_t),
	void *(*new_calloc)(size_t, size_t),
	void *(*new_realloc)(void *, size_t),
	void (*new_free)(void *));

static void envsite_use_libc_allocator(void) {
	ts_set_allocator(malloc, calloc, realloc, free);
}
*/
import "C"

// go-tree-sitter routes every allocation the C parser makes through Go
// callbacks that end in C.malloc/C.free anyway; each one is a C->Go->C
// round trip. Point tree-sitter at the same libc functions directly.
// Memory stays in the same heap, so blocks allocated either way can be
// freed either way.
func init() {
	C.envsite_use_libc_allocator()
}
