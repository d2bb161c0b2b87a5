// Package vaulttest gives tests a real HashiCorp Vault: the shared dev
// server that scripts/vault-dev starts (Server), or a private dev server
// process a test may kill and restart (Start).
//
// Tests skip when VAULT_ADDR is unset, unless ENV2VAULT_REQUIRE_VAULT is
// set (as scripts/test and CI do), in which case they fail.
package vaulttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// Version is the Vault server version tests run against (tools/vault).
const Version = "1.19.0"

// RequireEnv names the variable that turns a missing Vault into a
// failure instead of a skip.
const RequireEnv = "ENV2VAULT_REQUIRE_VAULT"

// Env is a Vault server and a pair of fresh mounts private to one test.
type Env struct {
	// Addr and Token reach the server (Token is a root token).
	Addr, Token string
	// CACert is the CA file for a TLS server, else "".
	CACert string
	// Client is a root client (no retries, so tests see raw failures).
	Client *api.Client
	// KV2 and KV1 are mount paths (no slashes) of a KV v2 and a KV v1
	// secrets engine enabled for this test only and removed after it.
	KV2, KV1 string
}

// Vars returns the environment variables that point a Vault client at
// the server: VAULT_ADDR, VAULT_TOKEN and, for TLS, VAULT_CACERT.
func (e *Env) Vars() []string {
	v := []string{"VAULT_ADDR=" + e.Addr, "VAULT_TOKEN=" + e.Token}
	if e.CACert != "" {
		v = append(v, "VAULT_CACERT="+e.CACert)
	}
	return v
}

// Setenv points this test's process environment at the server
// (t.Setenv, so the test must not be parallel).
func (e *Env) Setenv(t testing.TB) {
	t.Helper()
	for _, kv := range e.Vars() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	if e.CACert == "" {
		t.Setenv("VAULT_CACERT", "")
	}
}

// Required reports whether tests must fail rather than skip without Vault.
func Required() bool { return os.Getenv(RequireEnv) != "" }

// Server returns the shared dev server named by VAULT_ADDR, VAULT_TOKEN
// and VAULT_CACERT, with a fresh KV v2 and KV v1 mount for this test.
// It skips the test when VAULT_ADDR is unset (failing instead when
// ENV2VAULT_REQUIRE_VAULT is set).
func Server(t testing.TB) *Env {
	t.Helper()
	addr := os.Getenv("VAULT_ADDR")
	if addr == "" {
		missing(t, "VAULT_ADDR is unset; run eval \"$(scripts/vault-dev start)\" first")
	}
	token := os.Getenv("VAULT_TOKEN")
	if token == "" {
		t.Fatal("VAULT_ADDR is set but VAULT_TOKEN is not")
	}
	c, err := NewClient(addr, token, os.Getenv("VAULT_CACERT"))
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{Addr: addr, Token: token, CACert: os.Getenv("VAULT_CACERT"), Client: c}
	e.KV2 = Mount(t, c, 2)
	e.KV1 = Mount(t, c, 1)
	return e
}

func missing(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("a Vault server is required (%s is set): %s", RequireEnv, why)
	}
	t.Skip("no Vault server: " + why)
}

// NewClient returns a root client for addr with no retries and no
// environment influence beyond what is passed.
func NewClient(addr, token, caCert string) (*api.Client, error) {
	cfg := api.DefaultConfig()
	if cfg.Error != nil {
		return nil, cfg.Error
	}
	cfg.Address = addr
	cfg.MaxRetries = 0
	cfg.Timeout = 30 * time.Second
	if caCert != "" {
		if err := cfg.ConfigureTLS(&api.TLSConfig{CACert: caCert}); err != nil {
			return nil, fmt.Errorf("vaulttest: configuring TLS: %w", err)
		}
	}
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vaulttest: %w", err)
	}
	c.SetToken(token)
	c.ClearNamespace()
	return c, nil
}

// Mount enables a KV secrets engine of the given version (1 or 2) at a
// fresh random path, waits until it accepts writes, and disables it when
// the test ends. It returns the path without slashes.
func Mount(t testing.TB, c *api.Client, version int) string {
	t.Helper()
	path := fmt.Sprintf("t%d-%s", version, randomHex(6))
	err := c.Sys().Mount(path, &api.MountInput{
		Type:        "kv",
		Description: "vaulttest: " + t.Name(),
		Options:     map[string]string{"version": fmt.Sprint(version)},
	})
	if err != nil {
		t.Fatalf("enabling a KV v%d mount: %v", version, err)
	}
	t.Cleanup(func() {
		if err := c.Sys().Unmount(path); err != nil {
			t.Logf("disabling mount %s: %v", path, err)
		}
	})
	if err := WaitWritable(context.Background(), c, path, version); err != nil {
		t.Fatal(err)
	}
	return path
}

// WaitWritable waits until the KV mount at path accepts a write: a fresh
// KV v2 mount upgrades its storage in the background and refuses
// requests until it is done. The probe secret is removed again.
func WaitWritable(ctx context.Context, c *api.Client, path string, version int) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	probe := ".vaulttest-ready"
	for {
		var err error
		if version == 2 {
			_, err = c.KVv2(path).Put(ctx, probe, map[string]any{"ok": "1"})
			if err == nil {
				err = c.KVv2(path).DeleteMetadata(ctx, probe)
			}
		} else {
			err = c.KVv1(path).Put(ctx, probe, map[string]any{"ok": "1"})
			if err == nil {
				err = c.KVv1(path).Delete(ctx, probe)
			}
		}
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the KV v%d mount %s never accepted writes: %w", version, path, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Binary returns the path of the cached Vault server binary:
// $ENV2VAULT_VAULT_BIN, else ${ENV2VAULT_CACHE:-$GOCACHE/env2vault}/vault-<Version>
// (GOCACHE defaulting to Go's own default, $XDG_CACHE_HOME/go-build).
// scripts/vault-dev builds it.
func Binary() (string, error) {
	if b := os.Getenv("ENV2VAULT_VAULT_BIN"); b != "" {
		return b, nil
	}
	cache := os.Getenv("ENV2VAULT_CACHE")
	if cache == "" {
		gocache := os.Getenv("GOCACHE")
		if gocache == "" {
			dir, err := os.UserCacheDir()
			if err != nil {
				return "", err
			}
			gocache = filepath.Join(dir, "go-build")
		}
		cache = filepath.Join(gocache, "env2vault")
	}
	bin := filepath.Join(cache, "vault-"+Version)
	if _, err := os.Stat(bin); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("the Vault %s binary is not built yet (%s); run scripts/vault-dev binary", Version, bin)
		}
		return "", err
	}
	return bin, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
