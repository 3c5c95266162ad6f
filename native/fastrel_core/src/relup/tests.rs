use super::*;

#[test]
#[ignore]
fn bench_phases() {
    let dir = std::env::var("RELUP_BENCH_DIR").unwrap();
    std::env::set_current_dir(&dir).unwrap();
    let mut path: Vec<String> = std::fs::read_dir("lib")
        .unwrap()
        .map(|e| format!("lib/{}/ebin", e.unwrap().file_name().to_string_lossy()))
        .collect();
    path.sort();
    if std::env::var("RELUP_BENCH_OTP").is_ok() {
        let mut otp: Vec<String> = std::fs::read_dir("/usr/lib/erlang/lib")
            .unwrap()
            .map(|e| {
                format!(
                    "/usr/lib/erlang/lib/{}/ebin",
                    e.unwrap().file_name().to_string_lossy()
                )
            })
            .collect();
        otp.sort();
        path.extend(otp);
    }
    let opts = RelupOptions {
        top: "r2".into(),
        up: vec![BaseRel::Rel("r1".into(), Term::nil())],
        dn: vec![BaseRel::Rel("r1".into(), Term::nil())],
        path,
        restart_emulator: false,
        otp_major: 25,
        cwd: std::env::current_dir().unwrap(),
    };
    for _ in 0..3 {
        let t0 = std::time::Instant::now();
        let mut rels = Releases {
            opts: &opts,
            cache: HashMap::new(),
            appups: HashMap::new(),
        };
        let top = rels.get("r2").unwrap();
        let base = rels.get("r1").unwrap();
        let t1 = t0.elapsed();
        let mut ws = Vec::new();
        let oracle = Oracle::default();
        let s = base_script(&mut rels, Mode::Up, &top, &base, &mut ws, &oracle).unwrap();
        let t2 = t0.elapsed();
        let _ = base_script(&mut rels, Mode::Dn, &top, &base, &mut ws, &oracle).unwrap();
        let t3 = t0.elapsed();
        eprintln!(
            "read {t1:?} up {:?} dn {:?} ({} instrs)",
            t2 - t1,
            t3 - t2,
            s.len()
        );
    }
}
