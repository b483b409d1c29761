//! The page's one script: search over the replay and keys to walk the findings. Inline,
//! allowed by its sha256 in the page's Content-Security-Policy (no other script can
//! run), and optional: without it the page reads the same and the search box stays
//! hidden.

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

/// The search box and the keys, hidden until the script shows them.
pub const TOOLS: &str = r#"<div id="tools" hidden><input id="search" type="search" placeholder="Search the replay ( / )" aria-label="search the replay"> <span id="count"></span><span class="keys">/ search · j k next and previous finding · o open or fold the results · Esc clear</span></div>
"#;

/// The script (its exact text is hashed).
pub const SCRIPT: &str = r#"(function(){
var tools=document.getElementById('tools'),q=document.getElementById('search'),count=document.getElementById('count');
if(!tools||!q)return;tools.hidden=false;
var entries=Array.prototype.slice.call(document.querySelectorAll('ol.replay>li'));
function filter(){var t=q.value.toLowerCase(),n=0;entries.forEach(function(li){var hit=!t||li.textContent.toLowerCase().indexOf(t)>=0;li.classList.toggle('hide',!hit);if(hit&&t){n++;var d=li.querySelector('details');if(d)d.open=true;}});count.textContent=t?n+(n==1?' match':' matches'):'';}
q.addEventListener('input',filter);
var finds=Array.prototype.slice.call(document.querySelectorAll('tr.finding')),at=-1;
function go(i){if(!finds.length)return;at=(i+finds.length)%finds.length;var a=finds[at].querySelector('a.to-line');location.hash=a?a.getAttribute('href'):'#'+finds[at].id;}
document.addEventListener('keydown',function(e){if(e.target===q){if(e.key==='Escape'){q.value='';filter();q.blur();}return;}if(e.ctrlKey||e.metaKey||e.altKey)return;
if(e.key==='/'){e.preventDefault();q.focus();}else if(e.key==='j'){go(at+1);}else if(e.key==='k'){go(at-1);}else if(e.key==='o'){var ds=document.querySelectorAll('ol.replay details'),open=ds.length&&!ds[0].open;ds.forEach(function(d){d.open=open;});}});
})();"#;

/// The script's source as a CSP source: `sha256-…`.
pub fn hash() -> String {
    let digest = Sha256::digest(SCRIPT.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_the_scripts_sha256_in_base64() {
        let h = hash();
        assert!(h.starts_with("sha256-"));
        assert_eq!(h.len(), "sha256-".len() + 44);
        assert!(!SCRIPT.contains("</script"));
    }
}
