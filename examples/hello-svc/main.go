// Command hello-svc is the small HTTP service that go-ship's end-to-end tests and demo ship.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Injected at build time: -ldflags "-X main.version=1.2.3 -X main.commit=abc -X main.date=...".
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

func main() {
	addr := flag.String("addr", envOr("ADDR", "127.0.0.1:8080"), "listen address")
	drain := flag.Duration("drain-timeout", 30*time.Second, "how long to wait for in-flight requests on SIGTERM")
	flag.Parse()
	if flag.Arg(0) == "migrate" {
		os.Exit(migrate(os.Getenv("HELLO_DB"), os.Getenv("HELLO_FAULT")))
	}
	if err := applyFault(os.Getenv("HELLO_FAULT")); err != nil {
		log.Fatal(err)
	}

	srv := &http.Server{Addr: *addr, Handler: newMux(buildInfo{Version: version, Commit: commit, Date: date}), ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Printf("hello-svc %s listening on %s", version, *addr)

	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	case <-ctx.Done():
		log.Printf("shutting down: draining in-flight requests (up to %s)", *drain)
		shutdownCtx, cancel := context.WithTimeout(context.Background(), *drain)
		defer cancel()
		// Shutdown stops accepting new connections and waits for active requests to finish.
		if err := srv.Shutdown(shutdownCtx); err != nil {
			log.Fatalf("shutdown: %v", err)
		}
		log.Print("stopped")
	}
}

// migrate is what a deploy runs once before the new version takes traffic (`hello-svc migrate`):
// it records the schema of this version in the file HELLO_DB names, one line per migration, so a
// deploy can show it ran exactly once. HELLO_FAULT=migrate makes it fail as a broken migration does.
func migrate(db, fault string) int {
	log.Printf("hello-svc %s: migrating", version)
	if fault == "migrate" {
		log.Print(`migrate: ERROR: relation "greetings" does not exist`)
		return 1
	}
	if db != "" {
		f, err := os.OpenFile(db, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			log.Print(err)
			return 1
		}
		defer f.Close()
		if _, err := fmt.Fprintf(f, "schema %s\n", version); err != nil {
			log.Print(err)
			return 1
		}
	}
	log.Printf("hello-svc %s: migrated", version)
	return 0
}

// applyFault reads HELLO_FAULT: "healthz" fails every health check, "healthz-after=N" answers the
// first N health checks and fails the rest (a version that passes a pre-switch gate, then breaks).
func applyFault(fault string) error {
	switch {
	case fault == "", fault == "migrate": // migrate fails only the migration
	case fault == "healthz":
		healthyAnswers.Store(0)
		healthLimited.Store(true)
	case strings.HasPrefix(fault, "healthz-after="):
		n, err := strconv.Atoi(strings.TrimPrefix(fault, "healthz-after="))
		if err != nil || n < 0 {
			return fmt.Errorf("HELLO_FAULT=%s: want healthz-after=N with N >= 0", fault)
		}
		healthyAnswers.Store(int64(n))
		healthLimited.Store(true)
	default:
		return fmt.Errorf("HELLO_FAULT=%s: want healthz, healthz-after=N or migrate", fault)
	}
	return nil
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
