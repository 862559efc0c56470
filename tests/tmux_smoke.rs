//! A smoke test of the dashboard in a real terminal (tmux): it draws, answers keys, survives
//! resizing to a tiny size, and gives the terminal back with the summary printed after it.
//! `tests/setup.sh` (run by the test command) installs tmux.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{ReplayServer, capture};

const BIN: &str = env!("CARGO_BIN_EXE_failover-watch");

struct Session {
    name: String,
    dir: PathBuf,
}

impl Session {
    /// A session named `prefix` and this process, with a fresh folder of its own (both gone
    /// when it is dropped).
    fn named(prefix: &str) -> Self {
        let name = format!("{prefix}-{}", std::process::id());
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        Self { name, dir }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(args)
            .output()
            .expect("tmux is needed for this test (tests/setup.sh installs it)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", &self.name])
    }

    /// Polls the screen until `ready` holds (bounded: the terminal gives no other signal).
    fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs `command` in a new detached session of `width`×`height` (in `cwd` if given).
    fn open(&self, (width, height): (u16, u16), cwd: Option<&str>, command: &str) {
        let (width, height) = (width.to_string(), height.to_string());
        let mut args = vec![
            "new-session",
            "-d",
            "-s",
            &self.name,
            "-x",
            &width,
            "-y",
            &height,
        ];
        if let Some(cwd) = cwd {
            args.extend(["-c", cwd]);
        }
        args.push(command);
        self.tmux(&args);
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.name];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }
}

/// The exit status the shell wrote after the dashboard ended (bounded wait).
fn exit_status(file: &std::path::Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = std::fs::read_to_string(file).unwrap_or_default();
        if !status.trim().is_empty() {
            return status.trim().to_owned();
        }
        assert!(Instant::now() < deadline, "the dashboard did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A proxy whose primary serves twice, then is refused and the fallback serves: its target
/// fails over at the third request.
async fn failing_over_at_the_third() -> ReplayServer {
    ReplayServer::start(
        vec![
            capture("01b-primary-ok.http"),
            capture("01b-primary-ok.http"),
            capture("02a-primary-refused-1st.http"),
        ],
        None,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_draws_obeys_keys_resizes_and_restores_the_terminal() {
    let server = failing_over_at_the_third().await;
    let session = Session::named("fw-smoke");
    let dir = session.dir.clone();
    let exit_file = dir.join("exit");
    let command = format!(
        "env -u NO_COLOR TERM=xterm-256color {BIN} --url {} --interval 200ms --log-file {}; echo $? > {}; sleep 30",
        server.url(),
        dir.join("log").display(),
        exit_file.display()
    );
    session.open((120, 40), None, &command);

    let screen = session.wait_for("the failover on screen", |s| {
        s.contains("NOW SERVING") && s.contains("FAILOVER")
    });
    assert!(screen.contains("failover-watch"), "{screen}");
    assert_eq!(
        session
            .tmux(&["display", "-p", "-t", &session.name, "#{alternate_on}"])
            .trim(),
        "1"
    );

    session.keys(&["?"]);
    session.wait_for("the help", |s| s.contains("Help · ? or Esc to close"));
    session.keys(&["Escape"]);
    session.wait_for("the help to close", |s| !s.contains("Help · ? or Esc"));

    session.tmux(&["resize-window", "-t", &session.name, "-x", "30", "-y", "8"]);
    session.wait_for("the too-small notice", |s| s.contains("too small"));
    session.tmux(&["resize-window", "-t", &session.name, "-x", "1", "-y", "1"]);
    session.tmux(&[
        "resize-window",
        "-t",
        &session.name,
        "-x",
        "100",
        "-y",
        "30",
    ]);
    session.wait_for("the full layout again", |s| s.contains("Recent requests"));

    session.keys(&["q"]);
    let screen = session.wait_for("the summary after quitting", |s| {
        s.contains("Failover Watch Summary")
    });
    assert_eq!(exit_status(&exit_file), "0");
    // Back on the normal screen, in cooked mode: lines start at the left edge.
    assert_eq!(
        session
            .tmux(&["display", "-p", "-t", &session.name, "#{alternate_on}"])
            .trim(),
        "0"
    );
    assert!(!screen.contains("NOW SERVING"), "{screen}");
    assert!(
        screen.lines().any(|l| l == "Failover Watch Summary"),
        "{screen}"
    );
    assert!(
        screen
            .lines()
            .any(|l| l.starts_with("  • Failover: ✓ Detected")),
        "{screen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_restores_the_terminal_and_prints_the_summary() {
    a_signal_restores_the_terminal_and_prints_the_summary("TERM").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigquit_restores_the_terminal_and_prints_the_summary() {
    a_signal_restores_the_terminal_and_prints_the_summary("QUIT").await;
}

async fn a_signal_restores_the_terminal_and_prints_the_summary(signal: &str) {
    let server = ReplayServer::start(vec![capture("01b-primary-ok.http")], None).await;
    let session = Session::named(&format!("fw-sig{}", signal.to_lowercase()));
    let dir = session.dir.clone();
    let pid_file = dir.join("pid");
    let exit_file = dir.join("exit");
    let command = format!(
        "sh -c 'echo $$ > {pid}; exec {BIN} --url {url} --interval 200ms --log-file {log}'; echo $? > {exit}; sleep 30",
        pid = pid_file.display(),
        url = server.url(),
        log = dir.join("log").display(),
        exit = exit_file.display(),
    );
    session.open((100, 30), None, &command);
    session.wait_for("the dashboard", |s| {
        s.contains("NOW SERVING") && s.contains("PRIMARY")
    });
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let killed = Command::new("kill")
        .args([&format!("-{signal}"), pid.trim()])
        .status()
        .unwrap();
    assert!(killed.success());
    let screen = session.wait_for("the summary after the signal", |s| {
        s.contains("Failover Watch Summary")
    });
    assert!(
        screen
            .lines()
            .any(|l| l.starts_with("  • Total requests: ")),
        "{screen}"
    );
    assert_eq!(exit_status(&exit_file), "0");
    assert_eq!(
        session
            .tmux(&[
                "display",
                "-p",
                "-t",
                &session.name,
                "#{alternate_on} #{cursor_flag}"
            ])
            .trim(),
        "0 1",
        "the alternate screen is off and the cursor shown again"
    );
}

/// A drill on a terminal: the header and the banner say its phase and the time left, `n` takes
/// the next step now, and `q` in the hold brings the primary back before the dashboard gives
/// the terminal back; then the report, and exit status 130.
#[test]
fn a_drill_on_the_dashboard_says_its_phase_and_restores_before_it_quits() {
    let session = Session::named("fw-drill");
    let dir = session.dir.clone();
    let exit_file = dir.join("exit");
    let up_ran = dir.join("up.ran");
    let command = format!(
        "env -u NO_COLOR TERM=xterm-256color {BIN} demo drill --interval 300ms --cooldown 1s \
         --baseline 30s --hold 30s --settle 30s --down true --up 'touch {up}' --log-file {log}; \
         echo $? > {exit}; sleep 30",
        up = up_ran.display(),
        log = dir.join("log").display(),
        exit = exit_file.display(),
    );
    let dir_text = dir.display().to_string();
    session.open((120, 40), Some(&dir_text), &command);
    let screen = session.wait_for("the drill's baseline", |s| {
        s.contains("DRILL baseline · down in") && s.contains("NOW SERVING")
    });
    assert!(
        screen.contains("drill: baseline · llama-fp8 goes down in"),
        "{screen}"
    );
    assert!(screen.contains("drill: n next step"), "{screen}");
    session.keys(&["n"]);
    let screen = session.wait_for("the hold, failed over", |s| {
        s.contains("DRILL hold · up in") && s.contains("failed over after")
    });
    assert!(screen.contains("FALLBACK"), "{screen}");
    session.keys(&["q"]);
    let screen = session.wait_for("the report after the restore", |s| {
        s.contains("verdict: no budgets given")
    });
    assert_eq!(exit_status(&exit_file), "130");
    assert!(up_ran.exists(), "the up command ran");
    assert!(
        screen.contains("drill interrupted (Ctrl-C, a signal or q); the up command ran (exit 0)"),
        "{screen}"
    );
    assert_eq!(
        session
            .tmux(&["display", "-p", "-t", &session.name, "#{alternate_on}"])
            .trim(),
        "0"
    );
}

/// Two targets on two proxies: the overview in a real terminal at 120×40 and 80×24, the one on
/// a fallback first; Enter opens its dashboard, Esc comes back, q prints a summary per target
/// and the totals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_of_two_targets_opens_one_and_comes_back() {
    let steady = ReplayServer::start(vec![capture("01b-primary-ok.http")], None).await;
    let failing = failing_over_at_the_third().await;
    let session = Session::named("fw-overview");
    let dir = session.dir.clone();
    let exit_file = dir.join("exit");
    let targets = dir.join("targets.toml");
    std::fs::write(
        &targets,
        format!(
            "[[target]]\nname = \"alpha\"\nurl = \"{}\"\nprimary = \"llama-fp8\"\ndirect = \"off\"\n\n\
             [[target]]\nname = \"beta\"\nurl = \"{}\"\nprimary = \"llama-fp8\"\nfallback = \"llama3\"\n\
             direct = \"off\"\n",
            steady.url(),
            failing.url()
        ),
    )
    .unwrap();
    let command = format!(
        "env -u NO_COLOR TERM=xterm-256color {BIN} --targets {} --interval 200ms \
         --proxy-metrics off --log-file {}; echo $? > {}; sleep 30",
        targets.display(),
        dir.join("log").display(),
        exit_file.display()
    );
    session.open((120, 40), None, &command);
    let screen = session.wait_for("the overview with beta failed over", |s| {
        s.contains("2 targets: 1 on their primary · 1 on a fallback")
    });
    let row = |screen: &str, name: &str| {
        screen
            .lines()
            .position(|l| l.contains(&format!(" {name} ")))
            .unwrap_or_else(|| panic!("no row {name}:\n{screen}"))
    };
    assert!(row(&screen, "beta") < row(&screen, "alpha"), "{screen}");
    let beta = screen.lines().nth(row(&screen, "beta")).unwrap();
    assert!(
        beta.contains("◆ FALLBACK") && beta.contains("▶"),
        "{screen}"
    );
    assert!(!screen.contains("NOW SERVING"), "{screen}");

    session.keys(&["Enter"]);
    let screen = session.wait_for("beta's dashboard", |s| s.contains("NOW SERVING"));
    assert!(screen.contains("beta: llama-fp8 → llama3"), "{screen}");
    assert!(screen.contains("esc overview"), "{screen}");
    session.keys(&["Escape"]);
    session.wait_for("the overview again", |s| {
        s.contains("2 targets:") && !s.contains("NOW SERVING")
    });

    session.tmux(&["resize-window", "-t", &session.name, "-x", "80", "-y", "24"]);
    let screen = session.wait_for("the overview at 80×24", |s| {
        s.contains("2 targets:") && s.lines().count() <= 24
    });
    assert!(screen.lines().all(|l| l.chars().count() <= 80), "{screen}");
    assert!(
        screen.contains(" alpha ") && screen.contains(" beta "),
        "{screen}"
    );

    session.keys(&["q"]);
    let screen = session.wait_for("the summaries after quitting", |s| {
        s.contains("Failover Watch Summary: all 2 targets")
    });
    assert_eq!(exit_status(&exit_file), "0");
    assert!(
        screen.contains("At the end: 1 on their primary, 1 on a fallback"),
        "{screen}"
    );
}
