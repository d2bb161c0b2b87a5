// Package safety holds env2vault's reliability and security tests: a
// canary search over every command's output and files, crash and fault
// injection (a Vault server killed mid-migration, a rewrite killed
// mid-apply), and a catalogue of bad input. It has no code of its own;
// SAFETY.md lists each guarantee and the test that proves it.
package safety
