// Package secret holds the one type that may carry a secret value through
// env2vault, and the keyed fingerprint used to compare values without
// revealing them.
//
// A Value redacts itself in every formatting path Go offers (fmt verbs,
// %#v, JSON, text marshalling and log/slog), so a value that accidentally
// reaches a log line, an error message, a report or a panic prints as
// [REDACTED]. The only way to get the plaintext is Reveal, which callers
// use exactly where the value goes into a vault or is compared.
package secret

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// Redacted is what every formatting path prints instead of a value.
const Redacted = "[REDACTED]"

// Value is a secret value. The zero Value is empty.
type Value struct {
	// p is a pointer so that copies of a Value share one backing string and
	// reflection-based printers (e.g. spew, %+v on a containing struct)
	// see only an address.
	p *string
}

// New wraps s in a Value.
func New(s string) Value { return Value{p: &s} }

// Reveal returns the plaintext. Call it only to write the value into a
// backend, to compare it, or to fingerprint it.
func (v Value) Reveal() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

// IsZero reports whether the value is empty.
func (v Value) IsZero() bool { return v.p == nil || *v.p == "" }

// Len returns the length of the value in bytes; lengths are not secret.
func (v Value) Len() int {
	if v.p == nil {
		return 0
	}
	return len(*v.p)
}

// Equal reports whether two values are equal, in constant time.
func (v Value) Equal(o Value) bool {
	return subtle.ConstantTimeCompare([]byte(v.Reveal()), []byte(o.Reveal())) == 1
}

// String implements fmt.Stringer and always redacts.
func (v Value) String() string { return Redacted }

// GoString implements fmt.GoStringer and always redacts.
func (v Value) GoString() string { return "secret.Value(" + Redacted + ")" }

// Format implements fmt.Formatter so that every verb (%s, %v, %+v, %#v,
// %q, %x, %d, ...) prints the redaction marker.
func (v Value) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", Redacted)
	default:
		if verb == 'v' && f.Flag('#') {
			_, _ = f.Write([]byte(v.GoString()))
			return
		}
		_, _ = f.Write([]byte(Redacted))
	}
}

// MarshalJSON implements json.Marshaler and always redacts.
func (v Value) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler (used by YAML, TOML and
// map keys) and always redacts.
func (v Value) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue implements slog.LogValuer and always redacts.
func (v Value) LogValue() slog.Value { return slog.StringValue(Redacted) }
