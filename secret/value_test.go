package secret

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// canary is built at run time so no secret-shaped literal is committed.
var canary = strings.Join([]string{"canary", "Vq8", "Xk2", "Lp0", "Zz7"}, "-")

type holder struct {
	Name  string
	Value Value
	Ptr   *Value
	Any   any
}

func TestValueNeverFormats(t *testing.T) {
	v := New(canary)
	h := holder{Name: "n", Value: v, Ptr: &v, Any: v}
	var outputs []string
	for _, verb := range []string{"%s", "%v", "%+v", "%#v", "%q", "%x", "%X", "%d", "%10s", "%-8v", "%T"} {
		outputs = append(outputs, fmt.Sprintf(verb, v), fmt.Sprintf(verb, h), fmt.Sprintf(verb, &h), fmt.Sprintf(verb, []Value{v}), fmt.Sprintf(verb, map[string]Value{"k": v}))
	}
	outputs = append(outputs, fmt.Sprint(v), fmt.Sprintln(v, h), v.String(), v.GoString())
	for _, x := range []any{v, h, &h, []Value{v}, map[string]Value{"k": v}, map[Value]string{v: "k"}} {
		b, err := json.Marshal(x)
		if err != nil {
			t.Fatalf("json: %v", err)
		}
		outputs = append(outputs, string(b))
		y, err := yaml.Marshal(x)
		if err != nil {
			t.Fatalf("yaml: %v", err)
		}
		outputs = append(outputs, string(y))
	}
	type doc struct{ V Value }
	x, err := xml.Marshal(doc{v})
	if err != nil {
		t.Fatalf("xml: %v", err)
	}
	outputs = append(outputs, string(x))
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		l := slog.New(h)
		l.Info("pushing", "value", v, "holder", h, slog.Any("any", v), slog.Group("g", "v", v))
	}
	outputs = append(outputs, logs.String())
	err = fmt.Errorf("writing %v: %w", v, errors.New("boom"))
	outputs = append(outputs, err.Error())
	for i, o := range outputs {
		if strings.Contains(o, canary) || strings.Contains(o, "Vq8") {
			t.Errorf("output %d leaks the value: %s", i, strings.ReplaceAll(o, canary, "<CANARY>"))
		}
	}
	if !strings.Contains(outputs[0], Redacted) {
		t.Errorf("%%s printed %q, want the redaction marker", outputs[0])
	}
}

func TestValuePanicRedacts(t *testing.T) {
	defer func() {
		r := recover()
		if s := fmt.Sprint(r); strings.Contains(s, canary) {
			t.Errorf("panic message leaks the value")
		}
	}()
	panic(New(canary))
}

func TestValueAccessors(t *testing.T) {
	v := New(canary)
	if v.Reveal() != canary || v.Len() != len(canary) || v.IsZero() {
		t.Fatal("accessors disagree with the wrapped value")
	}
	var zero Value
	if !zero.IsZero() || zero.Reveal() != "" || zero.Len() != 0 {
		t.Fatal("zero Value is not empty")
	}
	if !v.Equal(New(canary)) || v.Equal(New(canary+"x")) {
		t.Fatal("Equal is wrong")
	}
}

func TestFingerprint(t *testing.T) {
	f1, err := NewFingerprinter([]byte("key-one-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	f2, _ := NewFingerprinter([]byte("key-two-0123456789"))
	a, b := f1.Fingerprint(New(canary)), f1.Fingerprint(New(canary))
	if a != b || !strings.HasPrefix(a, FingerprintPrefix) {
		t.Fatalf("fingerprints of equal values differ or lack the prefix: %q %q", a, b)
	}
	if a == f2.Fingerprint(New(canary)) {
		t.Fatal("different keys gave the same fingerprint")
	}
	if a == f1.Fingerprint(New(canary+"!")) {
		t.Fatal("different values gave the same fingerprint")
	}
	if strings.Contains(a, canary) {
		t.Fatal("fingerprint contains the value")
	}
	if !f1.Matches(New(canary), a) || f1.Matches(New("other"), a) {
		t.Fatal("Matches is wrong")
	}
	if f1.Fingerprint(Value{}) != "" {
		t.Fatal("empty value must have the empty fingerprint")
	}
	if _, err := NewFingerprinter([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestLoadFingerprinterFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "fingerprint.key")
	f1, err := LoadFingerprinterFile(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", info.Mode().Perm())
	}
	f2, err := LoadFingerprinterFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f1.Fingerprint(New(canary)) != f2.Fingerprint(New(canary)) {
		t.Fatal("reloading the key file changed fingerprints")
	}
}

func TestLoadFingerprinterEnv(t *testing.T) {
	t.Setenv(KeyEnv, "shared-key-for-many-machines")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	f, err := LoadFingerprinter()
	if err != nil {
		t.Fatal(err)
	}
	g, _ := NewFingerprinter([]byte("shared-key-for-many-machines"))
	if f.Fingerprint(New(canary)) != g.Fingerprint(New(canary)) {
		t.Fatal("ENV2VAULT_FINGERPRINT_KEY not used")
	}
	t.Setenv(KeyEnv, "short")
	if _, err := LoadFingerprinter(); err == nil || strings.Contains(err.Error(), "short") {
		t.Fatalf("short env key: err=%v (must fail without echoing the key)", err)
	}
}
