package vaulttest

import (
	"context"
	"errors"
	"testing"

	"github.com/hashicorp/vault/api"
)

func TestServerMountsAreFreshAndIsolated(t *testing.T) {
	e := Server(t)
	ctx := context.Background()
	mounts, err := e.Client.Sys().ListMountsWithContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{e.KV2: "2", e.KV1: "1"} {
		m, ok := mounts[path+"/"]
		if !ok {
			t.Fatalf("mount %s missing", path)
		}
		if m.Type != "kv" || m.Options["version"] != want {
			t.Errorf("mount %s: type %s version %q, want kv version %s", path, m.Type, m.Options["version"], want)
		}
	}
	// Fresh: the probe secret was removed.
	if _, err := e.Client.KVv2(e.KV2).Get(ctx, ".vaulttest-ready"); !errors.Is(err, api.ErrSecretNotFound) {
		t.Errorf("probe secret left behind in %s: %v", e.KV2, err)
	}
	other := Server(t)
	if other.KV2 == e.KV2 || other.KV1 == e.KV1 {
		t.Errorf("two calls share a mount: %s/%s and %s/%s", e.KV2, e.KV1, other.KV2, other.KV1)
	}
}

func TestStartKillRestart(t *testing.T) {
	for _, tls := range []bool{false, true} {
		name := "http"
		if tls {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			p := Start(t, Options{TLS: tls})
			ctx := context.Background()
			c := p.Client()
			if _, err := c.KVv2(p.KV2).Put(ctx, "a", map[string]any{"k": "v"}); err != nil {
				t.Fatalf("write to a fresh server: %v", err)
			}
			if err := c.KVv1(p.KV1).Put(ctx, "a", map[string]any{"k": "v"}); err != nil {
				t.Fatalf("write to kv1: %v", err)
			}
			p.Kill()
			if p.Running() {
				t.Fatal("Running after Kill")
			}
			if _, err := c.KVv2(p.KV2).Get(ctx, "a"); err == nil {
				t.Fatal("a killed server answered")
			}
			addr := p.Addr
			p.Restart()
			if p.Addr != addr {
				t.Errorf("restart moved the server from %s to %s", addr, p.Addr)
			}
			c = p.Client()
			if _, err := c.KVv2(p.KV2).Get(ctx, "a"); !errors.Is(err, api.ErrSecretNotFound) {
				t.Errorf("a restarted dev server should start empty: %v", err)
			}
			if _, err := c.KVv2(p.KV2).Put(ctx, "a", map[string]any{"k": "v"}); err != nil {
				t.Fatalf("write after restart: %v", err)
			}
		})
	}
}

func TestFileStorageSurvivesKill(t *testing.T) {
	p := Start(t, Options{FileStorage: true})
	ctx := context.Background()
	c := p.Client()
	if _, err := c.KVv2(p.KV2).Put(ctx, "a", map[string]any{"k": "v1"}); err != nil {
		t.Fatalf("write to a fresh server: %v", err)
	}
	if err := c.KVv1(p.KV1).Put(ctx, "b", map[string]any{"k": "v"}); err != nil {
		t.Fatalf("write to kv1: %v", err)
	}
	token := p.Token
	p.Kill()
	if _, err := c.KVv2(p.KV2).Get(ctx, "a"); err == nil {
		t.Fatal("a killed server answered")
	}
	p.Restart()
	if p.Token != token {
		t.Error("the root token changed across a restart")
	}
	c = p.Client()
	s, err := c.KVv2(p.KV2).Get(ctx, "a")
	if err != nil || s.Data["k"] != "v1" || s.VersionMetadata.Version != 1 {
		t.Fatalf("after a restart: %v, %+v; want version 1 holding v1", err, s)
	}
	if v1, err := c.KVv1(p.KV1).Get(ctx, "b"); err != nil || v1.Data["k"] != "v" {
		t.Fatalf("kv1 after a restart: %v", err)
	}
	if _, err := c.KVv2(p.KV2).Put(ctx, "a", map[string]any{"k": "v2"}); err != nil {
		t.Fatalf("write after restart: %v", err)
	}
	m, err := c.KVv2(p.KV2).GetMetadata(ctx, "a")
	if err != nil || m.CurrentVersion != 2 {
		t.Fatalf("metadata after a second write: %v, %+v", err, m)
	}
}
