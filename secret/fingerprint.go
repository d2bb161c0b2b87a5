package secret

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyEnv names the environment variable that supplies the fingerprint key.
// Set it to the same value on every machine whose scans are merged.
const KeyEnv = "ENV2VAULT_FINGERPRINT_KEY"

// FingerprintPrefix starts every fingerprint, naming the scheme.
const FingerprintPrefix = "hmac-sha256:"

// Fingerprinter computes keyed fingerprints of values. Equal values give
// equal fingerprints under one key; without the key a fingerprint reveals
// nothing usable about the value, even a weak one.
type Fingerprinter struct {
	key []byte
}

// NewFingerprinter returns a Fingerprinter using key.
func NewFingerprinter(key []byte) (*Fingerprinter, error) {
	if len(key) < 16 {
		return nil, errors.New("fingerprint key must be at least 16 bytes")
	}
	k := make([]byte, len(key))
	copy(k, key)
	return &Fingerprinter{key: k}, nil
}

// Fingerprint returns the fingerprint of v, e.g. "hmac-sha256:3f2a...".
// The empty value has the empty fingerprint.
func (f *Fingerprinter) Fingerprint(v Value) string {
	if v.IsZero() {
		return ""
	}
	m := hmac.New(sha256.New, f.key)
	m.Write([]byte(v.Reveal()))
	return FingerprintPrefix + hex.EncodeToString(m.Sum(nil)[:16])
}

// Matches reports whether v has fingerprint fp.
func (f *Fingerprinter) Matches(v Value, fp string) bool {
	return hmac.Equal([]byte(f.Fingerprint(v)), []byte(fp))
}

// DefaultKeyFile returns the per-user key file path:
// $XDG_CONFIG_HOME/env2vault/fingerprint.key (os.UserConfigDir).
func DefaultKeyFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding your config folder for the fingerprint key: %w", err)
	}
	return filepath.Join(dir, "env2vault", "fingerprint.key"), nil
}

// LoadFingerprinter returns a Fingerprinter keyed from ENV2VAULT_FINGERPRINT_KEY
// when set, else from the per-user key file, which it creates (mode 0600)
// with a random key on first use.
func LoadFingerprinter() (*Fingerprinter, error) {
	if k := os.Getenv(KeyEnv); k != "" {
		f, err := NewFingerprinter([]byte(k))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", KeyEnv, err)
		}
		return f, nil
	}
	path, err := DefaultKeyFile()
	if err != nil {
		return nil, err
	}
	return LoadFingerprinterFile(path)
}

// LoadFingerprinterFile reads the key in path, creating it with a fresh
// random key (mode 0600) when it does not exist.
func LoadFingerprinterFile(path string) (*Fingerprinter, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("creating the fingerprint key folder: %w", err)
		}
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return nil, fmt.Errorf("generating a fingerprint key: %w", err)
		}
		enc := hex.EncodeToString(raw)
		fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadFingerprinterFile(path) // lost a race with another process
		}
		if err != nil {
			return nil, fmt.Errorf("creating the fingerprint key file: %w", err)
		}
		if _, err := fh.WriteString(enc + "\n"); err != nil {
			fh.Close()
			return nil, fmt.Errorf("writing the fingerprint key file: %w", err)
		}
		if err := fh.Close(); err != nil {
			return nil, fmt.Errorf("writing the fingerprint key file: %w", err)
		}
		return NewFingerprinter([]byte(enc))
	}
	if err != nil {
		return nil, fmt.Errorf("reading the fingerprint key file %s: %w", path, err)
	}
	f, err := NewFingerprinter([]byte(strings.TrimSpace(string(b))))
	if err != nil {
		return nil, fmt.Errorf("fingerprint key file %s: %w", path, err)
	}
	return f, nil
}
