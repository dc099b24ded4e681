//! `gomitm ca` and `gomitm env`: where the CA is, what it is, how to trust it, and the shell
//! lines that point go and git at gomitm.

use std::path::Path;

use anyhow::Context;

use crate::ca::{self, CertAuthority};
use crate::cli::{CaAction, EnvArgs, Shell};
use crate::session::load_ca;

pub(crate) fn print_env(args: &EnvArgs) -> anyhow::Result<()> {
    if args.unset {
        // Undoing needs no CA: nothing is created or written.
        print!("{}", unset_script(args.shell));
        return Ok(());
    }
    let ca = load_ca(&args.ca)?;
    let bundle = ca.dir().join(ca::BUNDLE_FILE);
    ca::write_bundle(&ca, &bundle)?;
    let proxy = match &args.proxy_auth {
        Some(auth) => auth.proxy_url(&args.proxy),
        None => args.proxy.clone(),
    };
    print!("{}", env_script(args.shell, &proxy, &bundle));
    Ok(())
}

/// The proxy variables in both spellings: Go reads the upper-case name first, while curl
/// (and so git) reads only `http_proxy` in lower case, and prefers `https_proxy` lower-case.
const PROXY_VARS: [&str; 4] = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"];
/// Go reads SSL_CERT_FILE; git does not, it reads GIT_SSL_CAINFO.
const CA_VARS: [&str; 2] = ["SSL_CERT_FILE", "GIT_SSL_CAINFO"];

/// The lines that point go (HTTPS_PROXY, SSL_CERT_FILE) and git (https_proxy, GIT_SSL_CAINFO)
/// at gomitm.
pub fn env_script(shell: Shell, proxy: &str, bundle: &Path) -> String {
    let bundle = bundle.display().to_string();
    let vars = PROXY_VARS
        .iter()
        .map(|k| (*k, proxy))
        .chain(CA_VARS.iter().map(|k| (*k, bundle.as_str())));
    let mut out = String::from(
        "# gomitm: go and git through the proxy. Go never proxies localhost/127.0.0.1 URLs.\n\
         # SSL_CERT_FILE: Go reads it on Linux and the BSDs, and on macOS and Windows from Go 1.27;\n\
         # Go 1.18-1.26 on macOS use the Keychain, and Go before 1.27 on Windows the Root store.\n\
         # Undo with: ",
    );
    out.push_str(match shell {
        Shell::Bash => "eval \"$(gomitm env --unset)\"\n",
        Shell::Zsh => "eval \"$(gomitm env --shell zsh --unset)\"\n",
        Shell::Fish => "gomitm env --shell fish --unset | source\n",
        Shell::Powershell => "gomitm env --shell powershell --unset | Invoke-Expression\n",
    });
    for (k, v) in vars {
        let line = match shell {
            Shell::Bash | Shell::Zsh => format!("export {k}='{}'\n", v.replace('\'', r"'\''")),
            // Inside fish's single quotes `\\` and `\'` are the only escapes: a backslash
            // must be doubled first, or `C:\x\'` would end the string early.
            Shell::Fish => format!(
                "set -gx {k} '{}'\n",
                v.replace('\\', r"\\").replace('\'', r"\'")
            ),
            Shell::Powershell => format!("$env:{k} = '{}'\n", v.replace('\'', "''")),
        };
        out.push_str(&line);
    }
    out
}

/// The lines that undo [`env_script`]: the variables are removed, not restored to what they
/// were before.
pub fn unset_script(shell: Shell) -> String {
    let mut out = String::from("# gomitm: go and git no longer through gomitm.\n");
    for k in PROXY_VARS.iter().chain(CA_VARS.iter()) {
        let line = match shell {
            Shell::Bash | Shell::Zsh => format!("unset {k}\n"),
            Shell::Fish => format!("set -e {k}\n"),
            // Windows names are case-insensitive: the second spelling is already gone there.
            Shell::Powershell => {
                format!("Remove-Item Env:{k} -ErrorAction SilentlyContinue\n")
            }
        };
        out.push_str(&line);
    }
    out
}

pub(crate) fn run_ca(action: CaAction) -> anyhow::Result<()> {
    match action {
        CaAction::Path(dir) => {
            println!("{}", load_ca(&dir)?.cert_path().display());
        }
        CaAction::Show(dir) => {
            let ca = load_ca(&dir)?;
            print!("{}", describe_ca(&ca));
        }
        CaAction::Bundle { out, ca } => {
            let ca = load_ca(&ca)?;
            // Written where the user points, through a symlink or to a device if that is what
            // --out names (`/dev/stdout`); only the CA directory's own files are guarded.
            std::fs::write(&out, ca::bundle_pem(&ca))
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!(
                "gomitm: wrote system roots + gomitm CA to {}",
                out.display()
            );
        }
    }
    Ok(())
}

fn describe_ca(ca: &CertAuthority) -> String {
    let path = ca.cert_path();
    let p = path.display();
    let expiry = ca
        .not_after()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| ca.not_after().to_string());
    let how = if cfg!(target_os = "macos") {
        format!(
            "macOS: Go 1.18-1.26 use the Keychain and ignore SSL_CERT_FILE (Go 1.27+ reads it):\n  \
             sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {p}\n"
        )
    } else if cfg!(windows) {
        format!(
            "Windows: Go before 1.27 uses the Trusted Root store only (Go 1.27+ also reads\n\
             SSL_CERT_FILE); import the CA:\n  certutil -addstore -f ROOT {p}\n"
        )
    } else {
        format!(
            "Linux: for one shell, SSL_CERT_FILE replaces Go's bundle, so use the bundle of system\n\
             roots + gomitm CA (written by `gomitm proxy` and `gomitm env`):\n  \
             export SSL_CERT_FILE={bundle}\n\
             or system-wide (Debian/Ubuntu):\n  \
             sudo cp {p} /usr/local/share/ca-certificates/gomitm.crt && sudo update-ca-certificates\n",
            bundle = ca.dir().join(ca::BUNDLE_FILE).display()
        )
    };
    format!(
        "certificate: {p}\nSHA-256 fingerprint: {}\nexpires: {expiry}\n\n{how}git: GIT_SSL_CAINFO={bundle} (git does not read SSL_CERT_FILE)\n",
        ca.fingerprint_sha256(),
        bundle = ca.dir().join(ca::BUNDLE_FILE).display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::CaDirArg;
    use crate::session::ca_dir;
    use std::path::PathBuf;

    #[test]
    fn env_script_quotes_for_each_shell() {
        let b = Path::new("/tmp/it's/bundle.pem");
        let bash = env_script(Shell::Bash, "http://127.0.0.1:8080", b);
        assert!(bash.contains("export HTTPS_PROXY='http://127.0.0.1:8080'\n"));
        assert!(bash.contains("export SSL_CERT_FILE='/tmp/it'\\''s/bundle.pem'\n"));
        assert!(bash.contains("export GIT_SSL_CAINFO="));
        let fish = env_script(Shell::Fish, "http://p", b);
        assert!(fish.contains("set -gx HTTP_PROXY 'http://p'\n"));
        let ps = env_script(Shell::Powershell, "http://p", b);
        assert!(ps.contains("$env:SSL_CERT_FILE = '/tmp/it''s/bundle.pem'\n"));
        assert!(ps.contains("$env:https_proxy = 'http://p'\n"));
        let ps_undo = unset_script(Shell::Powershell);
        assert!(ps_undo.contains("Remove-Item Env:https_proxy -ErrorAction SilentlyContinue\n"));
        assert_eq!(ps_undo.matches("Remove-Item").count(), 6);
    }

    #[test]
    fn ca_dir_prefers_the_flag() {
        let arg = CaDirArg {
            ca_dir: Some(PathBuf::from("/x/y")),
        };
        assert_eq!(ca_dir(&arg).unwrap(), PathBuf::from("/x/y"));
    }

    #[test]
    fn describe_ca_names_fingerprint_expiry_and_git() {
        let dir = tempfile::tempdir().unwrap();
        let ca = CertAuthority::load_or_create(dir.path()).unwrap();
        let text = describe_ca(&ca);
        assert!(text.contains(&ca.fingerprint_sha256()));
        assert!(text.contains("expires: 20"));
        assert!(text.contains("GIT_SSL_CAINFO"));
    }
}
