// SPDX-License-Identifier: Apache-2.0
use super::bits::{f16_bits, BitBuf};
use super::scanner::RESERVED;
use super::*;
use num_bigint::BigInt;

fn read(src: &str) -> Term {
    read_bytes(src.as_bytes())
}

/// The first form of `src` as an OTP with these scanner rules reads it.
fn read_as(rules: ScannerRules, src: &str) -> Result<Term, ReadError> {
    SCANNER_RULES_HERE.with(|c| c.set(Some(rules)));
    let got = read_first_term(src.as_bytes(), "t");
    SCANNER_RULES_HERE.with(|c| c.set(None));
    got
}

#[test]
fn names_after_numbers_are_tokens_or_errors_as_the_otp_in_use() {
    let strict = |src: &str| read_as(ScannerRules { name_after_number: false, ..ScannerRules::OTP25 }, src);
    for (src, kind) in [
        ("[8x].", "illegal integer"),
        ("[1.5e3x].", "illegal float"),
        ("[16#FFg].", "illegal integer"),
        ("[8.x].", "illegal float"),
        ("[1_000@].", "illegal integer"),
        ("[1.5X].", "illegal float"),
    ] {
        assert_eq!(strict(src).unwrap_err().kind, ReadErrorKind::Scan(kind.into()), "{src}");
    }
    assert_eq!(strict("[8, 8.5, 8 , 1_0].").unwrap().as_list().unwrap().len(), 4);
    // A quote is no name character: two tokens, then erl_parse's error.
    assert!(matches!(strict("[8'a'].").unwrap_err().kind, ReadErrorKind::Parse(_)));
    assert!(matches!(fail(b"[8x]."), ReadError { kind: ReadErrorKind::Parse(_), .. }));
}

#[test]
fn adjacent_strings_concatenate_or_fail_as_the_otp_in_use() {
    let strict = |src: &str| read_as(ScannerRules { adjacent_strings: false, ..ScannerRules::OTP25 }, src);
    assert_eq!(read("{\"a\"\"b\"}."), Term::tuple([Term::string("ab")]));
    let e = strict("{x,\n\"a\"\"b\"}.").unwrap_err();
    assert_eq!((e.line, e.kind), (2, ReadErrorKind::Scan("string_concat".into())));
    assert_eq!(strict("{\"a\" \"b\"}.").unwrap(), Term::tuple([Term::string("ab")]));
}

#[test]
fn caret_escapes_as_the_otp_in_use() {
    assert_eq!(read("'\\^}\\^?'."), Term::atom("\u{1d}\u{1f}"));
    let strict = |src: &str| read_as(ScannerRules { caret_strict: true, ..ScannerRules::OTP25 }, src);
    assert_eq!(strict("'\\^a\\^?\\^_'.").unwrap(), Term::atom("\u{1}\u{7f}\u{1f}"));
    assert!(matches!(strict("'\\^}'.").unwrap_err().kind, ReadErrorKind::Scan(_)));
}

#[test]
fn maybe_and_else_are_atoms_or_reserved_as_the_otp_in_use() {
    assert_eq!(read("[maybe, else]."), Term::list([Term::atom("maybe"), Term::atom("else")]));
    let otp27 = |src: &str| read_as(ScannerRules { maybe_else_reserved: true, ..ScannerRules::OTP25 }, src);
    assert!(matches!(otp27("[maybe, 'else'].").map_err(|e| e.kind), Err(ReadErrorKind::Parse(_))));
    assert_eq!(otp27("['maybe', 'else'].").ok(), Some(Term::list([Term::atom("maybe"), Term::atom("else")])));
}

fn read_bytes(src: &[u8]) -> Term {
    read_first_term(src, "t").unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(src)))
}

fn fail(src: &[u8]) -> ReadError {
    match read_first_term(src, "t") {
        Ok(t) => panic!("{:?} read as {t:?}", String::from_utf8_lossy(src)),
        Err(e) => e,
    }
}

/// Asserts the kind of error (by variant) and its line.
fn fails(src: &str, kind: &str, line: u32) -> ReadError {
    let e = fail(src.as_bytes());
    let got = match e.kind {
        ReadErrorKind::Scan(_) => "scan",
        ReadErrorKind::Parse(_) => "parse",
        ReadErrorKind::Eof => "eof",
    };
    assert_eq!((got, e.line), (kind, line), "{src:?}: {e}");
    e
}

fn msg(e: &ReadError) -> String {
    e.kind.to_string()
}

fn a(s: &str) -> Term {
    Term::atom(s)
}
fn i(n: i64) -> Term {
    Term::Int(n)
}
fn s(x: &str) -> Term {
    Term::string(x)
}
fn t<const N: usize>(items: [Term; N]) -> Term {
    Term::tuple(items)
}
fn l<const N: usize>(items: [Term; N]) -> Term {
    Term::list(items)
}
fn bin(b: &[u8]) -> Term {
    Term::Binary(b.to_vec())
}
fn big(s: &str) -> Term {
    Term::int(s.parse::<BigInt>().unwrap())
}

/// Floats compared bit for bit, so that -0.0 and 0.0 differ.
fn float_bits(src: &str) -> u64 {
    match read(src) {
        Term::Float(f) => f.to_bits(),
        other => panic!("{src}: {other:?}"),
    }
}

#[test]
fn integers() {
    for (src, v) in [
        ("0.", 0),
        ("42.", 42),
        ("-12.", -12),
        ("+5.", 5),
        ("- 1.", -1),
        ("-(1).", -1),
        ("16#FF.", 255),
        ("16#ff.", 255),
        ("2#101.", 5),
        ("36#Z.", 35),
        ("36#Zz.", 1295),
        ("1_000.", 1000),
        ("16#FF_FF.", 65535),
        ("1_6#F.", 15),
        ("0016#F.", 15),
        ("-16#10.", -16),
        ("9223372036854775807.", i64::MAX),
        ("-9223372036854775808.", i64::MIN),
    ] {
        assert_eq!(read(src), i(v), "{src}");
    }
    assert_eq!(read("123456789012345678901234567890."), big("123456789012345678901234567890"));
    assert_eq!(read("9223372036854775808."), big("9223372036854775808"));
    assert!(matches!(read("9223372036854775808."), Term::Big(_)));
    assert_eq!(read("-16#FFFFFFFFFFFFFFFFFF."), big("-4722366482869645213695"));
    assert_eq!(
        read("2#1_0000000000_0000000000_0000000000_0000000000_0000000000_0000000000_000."),
        big("9223372036854775808")
    );
}

#[test]
fn integer_errors() {
    assert_eq!(msg(&fails("16#.", "scan", 1)), "illegal integer");
    assert_eq!(msg(&fails("16#_F.", "scan", 1)), "illegal integer");
    assert_eq!(msg(&fails("37#1.", "scan", 1)), "illegal base 37");
    fails("1#1.", "scan", 1);
    fails("99999999999999999999#1.", "scan", 1);
    fails("2#102.", "parse", 1);
    fails("1__0.", "parse", 1);
    fails("1_.", "parse", 1);
    fails("1e5.", "parse", 1);
    fails("1.e5.", "parse", 1);
    fails("12abc.", "parse", 1);
}

#[test]
fn chars() {
    for (src, v) in [
        ("$a.", 97),
        ("$\\n.", 10),
        ("$\\x{41}.", 65),
        ("$\\x41.", 65),
        ("$\\101.", 65),
        ("$\\7.", 7),
        ("$\\^A.", 1),
        ("$\\^a.", 1),
        ("$\\^@.", 0),
        ("$\\^?.", 31),
        ("$ .", 32),
        ("$%.", 37),
        ("$\\s.", 32),
        ("$\\z.", 122),
        ("$\\\\.", 92),
        ("$\\'.", 39),
        ("$'.", 39),
        ("$\".", 34),
        ("$é.", 233),
        ("$日.", 0x65E5),
        ("$\u{1F600}.", 0x1F600),
        ("-$a.", -97),
        ("+$a.", 97),
    ] {
        assert_eq!(read(src), i(v), "{src}");
    }
    // `$` followed by a newline is the newline character, and counts as a line.
    assert_eq!(read_all_terms(b"$\n.\n{x}.", "t").unwrap(), vec![i(10), t([a("x")])]);
    fails("$\n\n).", "parse", 3);
    // `\` followed by a newline, and `\^` followed by one, are newlines too.
    assert_eq!(read("$\\\n."), i(10));
    assert_eq!(read("$\\^\n."), i(10));
}

#[test]
fn char_errors() {
    assert_eq!(msg(&fails("$", "scan", 1)), "unterminated character");
    fails("$\\", "scan", 1);
    fails("$\\x", "scan", 1);
    fails("$\\x{41", "scan", 1);
    fails("\n$\\^", "scan", 2);
    assert_eq!(msg(&fails("$\\x4.", "scan", 1)), "bad character escape");
    fails("$\\x{110000}.", "scan", 1);
    fails("$\\x{D800}.", "scan", 1);
    fails("$\\x{FFFE}.", "scan", 1);
    fails("$\u{FFFF}.", "scan", 1);
    assert_eq!(msg(&fail(b"$\xff.")), "invalid UTF-8");
}

#[test]
fn floats() {
    for (src, v) in [
        ("1.0.", 1.0),
        ("1.0e3.", 1000.0),
        ("1.5E-5.", 1.5e-5),
        ("1.0e+5.", 1.0e5),
        ("1_0.5.", 10.5),
        ("1.5_5.", 1.55),
        ("1.0e5_0.", 1.0e50),
        ("- 2.5.", -2.5),
        ("+2.5.", 2.5),
        ("0.1.", 0.1),
        ("2.2250738585072014e-320.", f64::from_bits(4504)), // subnormal
        ("1.7976931348623157e308.", f64::MAX),
        ("1.0e-400.", 0.0),
    ] {
        assert_eq!(float_bits(src), v.to_bits(), "{src}");
    }
    assert_eq!(float_bits("-0.0."), (-0.0f64).to_bits());
    assert_eq!(float_bits("0.0."), 0.0f64.to_bits());
    assert_eq!(msg(&fails("1.0e400.", "scan", 1)), "illegal float");
    fails("{a,1.0e}.", "scan", 1);
    fails("1.0e+.", "scan", 1);
    fails("1.0e_1.", "scan", 1);
    fails("1.0 e5.", "parse", 1);
}

#[test]
fn atoms() {
    for (src, v) in [
        ("abc.", "abc"),
        ("a@b_C1.", "a@b_C1"),
        ("éa.", "éa"),
        ("ß.", "ß"),
        ("aÉ.", "aÉ"),
        ("'hello world'.", "hello world"),
        ("''.", ""),
        ("'a\\'b'.", "a'b"),
        ("'a\"b'.", "a\"b"),
        ("'end'.", "end"),
        ("'X'.", "X"),
        ("'日本'.", "日本"),
        ("'\\x{10FFFF}'.", "\u{10FFFF}"),
        ("'a\nb'.", "a\nb"),
        ("'\\^a\\s\\z'.", "\u{1} z"),
        ("maybe.", "maybe"),
        ("else.", "else"),
    ] {
        assert_eq!(read(src), a(v), "{src}");
    }
    let long = "a".repeat(255);
    assert_eq!(read(&format!("{long}.")), a(&long));
    assert_eq!(read(&format!("'{long}'.")), a(&long));
    let long_u = "日".repeat(255);
    assert_eq!(read(&format!("'{long_u}'.")), a(&long_u));
    assert_eq!(msg(&fails(&format!("a{long}."), "scan", 1)), "illegal atom");
    fails(&format!("'a{long}'."), "scan", 1);
    fails(&format!("'a{long_u}'."), "scan", 1);
    fails(&format!("X{long}."), "scan", 1);
    // `÷` and `×` are not letters.
    fails("a÷.", "parse", 1);
    fails("×.", "parse", 1);
    // Anything above Latin-1 is not a name character.
    assert_eq!(msg(&fails("a☃.", "scan", 1)), "illegal character");
}

#[test]
fn reserved_words_and_variables_are_not_atoms() {
    for w in RESERVED {
        let e = fails(&format!("{w}."), "parse", 1);
        assert!(msg(&e).contains(&format!("'{w}'")) || w == "fun", "{w}: {e}");
        assert_eq!(read(&format!("'{w}'.")), a(w));
    }
    assert_eq!(msg(&fails("X.", "parse", 1)), "bad term");
    fails("_Foo.", "parse", 1);
    fails("_.", "parse", 1);
    fails("Éa.", "parse", 1);
    fails("{a, [b | X]}.", "parse", 1);
    // A syntax error later in the form wins over the variable.
    assert_eq!(msg(&fails("{X,\n}.", "parse", 2)), "syntax error before: '}'");
}

#[test]
fn strings() {
    assert_eq!(read(r#""abc"."#), s("abc"));
    assert_eq!(read("\"\"."), Term::nil());
    assert_eq!(read(r#""\b\d\e\f\n\r\s\t\v\\\"\'"."#), l([8, 127, 27, 12, 10, 13, 32, 9, 11, 92, 34, 39].map(i)));
    assert_eq!(read(r#""\7\77\777\1a\1234\08"."#), l([7, 63, 511, 1, 97, 83, 52, 0, 56].map(i)));
    assert_eq!(read(r#""\x41\x4a\x{1F600}\x{0000041}"."#), l([65, 74, 0x1F600, 65].map(i)));
    assert_eq!(read(r#""\^A\^z\^@\^[\^\"."#), l([1, 26, 0, 27, 28].map(i)));
    // `\^` takes the next character whatever it is, here the backslash.
    assert_eq!(read(r#""\^\n"."#), l([28, 110].map(i)));
    assert_eq!(read(r#""\z\é\ "."#), l([122, 233, 32].map(i)));
    assert_eq!(read("\"a\\\nb\"."), s("a\nb"));
    assert_eq!(read("\"a\nb\"."), s("a\nb"));
    assert_eq!(read("\"a\tb\u{0}\"."), s("a\tb\u{0}"));
    assert_eq!(read("\"日本\u{1F600}é\"."), s("日本\u{1F600}é"));
    assert_eq!(read(r#""ab" "cd"."#), s("abcd"));
    assert_eq!(read("\"a\"\n\n\"b\" % c\n \"\" \"c\" ."), s("abc"));
    assert_eq!(read(r#"{"a" "b", "c"}."#), t([s("ab"), s("c")]));
    // Lines inside strings count.
    fails("\"a\nb\"\n\n}.", "parse", 4);
}

#[test]
fn string_errors() {
    let e = fails("\n\n\"abc", "scan", 3);
    assert_eq!(msg(&e), "unterminated string starting on line 3");
    assert_eq!(msg(&fails("\n'abc\n\n", "scan", 2)), "unterminated atom starting on line 2");
    fails("\"abc\\", "scan", 1);
    fails("\"\\x{41", "scan", 1);
    for bad in [r#""\x{110000}"."#, r#""\x{}"."#, r#""\x4g"."#, r#""\x{D800}"."#, r#""\xg"."#, r#""\x{41x}"."#] {
        assert_eq!(msg(&fails(bad, "scan", 1)), "bad character escape", "{bad}");
    }
    // The escape error is on the escape's line, not the string's.
    fails("\"a\n\n\\x{}\".", "scan", 3);
    assert_eq!(msg(&fails("\"a\u{FFFE}\".", "scan", 1)), "illegal character");
    assert_eq!(msg(&fail(b"\"a\xffb\".")), "invalid UTF-8");
    assert_eq!(msg(&fail(b"'a\xc3'.")), "invalid UTF-8");
}

#[test]
fn tuples_lists_maps() {
    assert_eq!(read("{}."), t([]));
    assert_eq!(read("{a}."), t([a("a")]));
    assert_eq!(read("{a, {b, c}, []}."), t([a("a"), t([a("b"), a("c")]), Term::nil()]));
    assert_eq!(read("[]."), Term::nil());
    assert_eq!(read("[ ]."), Term::nil());
    assert_eq!(read("[a]."), l([a("a")]));
    assert_eq!(read("[a|b]."), Term::Improper(vec![a("a")], Box::new(a("b"))));
    assert_eq!(read("[a,b|[c]]."), l([a("a"), a("b"), a("c")]));
    assert_eq!(read("[a|[]]."), l([a("a")]));
    assert_eq!(read("[1|[2|[3]]]."), l([i(1), i(2), i(3)]));
    assert_eq!(read("[a|[b|c]]."), Term::Improper(vec![a("a"), a("b")], Box::new(a("c"))));
    assert_eq!(read("[a|\"bc\"]."), l([a("a"), i(98), i(99)]));
    assert_eq!(read("[[]|[]]."), l([Term::nil()]));
    assert_eq!(read("#{}."), Term::Map(vec![]));
    assert_eq!(read("#{a => 1}."), Term::map(vec![(a("a"), i(1))]));
    assert_eq!(read("#{a=>1, a=>2}."), Term::map(vec![(a("a"), i(2))]));
    assert_eq!(read("#{b => 1, a => 2, b => 3, a => 4}."), Term::map(vec![(a("a"), i(4)), (a("b"), i(3))]));
    assert_eq!(
        read("#{1 => a, 1.0 => b, {x} => #{[] => <<>>}}."),
        Term::map(vec![
            (i(1), a("a")),
            (Term::Float(1.0), a("b")),
            (t([a("x")]), Term::map(vec![(Term::nil(), bin(b""))]))
        ])
    );
    assert_eq!(read("#{a=>-1}."), Term::map(vec![(a("a"), i(-1))]));
    assert_eq!(read("#{<<\"k\">>=><<\"v\">>}."), Term::map(vec![(bin(b"k"), bin(b"v"))]));
    fails("[a|b|c].", "parse", 1);
    fails("[a|].", "parse", 1);
    fails("{a,}.", "parse", 1);
    fails("[,a].", "parse", 1);
    fails("#{a := 1}.", "parse", 1);
    fails("#{a}.", "parse", 1);
    fails("#{}#{a=>1}.", "parse", 1);
    fails("#a.", "parse", 1);
    fails("{a} {b}.", "parse", 1);
    fails("[a||b].", "parse", 1);
}

#[test]
fn parentheses_and_unary_operators() {
    assert_eq!(read("(a)."), a("a"));
    assert_eq!(read("((((a))))."), a("a"));
    assert_eq!(read("{(a), [(b)], (<<1>>)}."), t([a("a"), l([a("b")]), bin(&[1])]));
    assert_eq!(read("(-1)."), i(-1));
    assert_eq!(read("- (1)."), i(-1));
    assert_eq!(read("-(16#10)."), i(-16));
    assert_eq!(read("-9223372036854775808."), i(i64::MIN));
    assert_eq!(read("- 9223372036854775809."), big("-9223372036854775809"));
    for bad in ["- - 1.", "-(-1).", "+-1.", "- -1.", "-a.", "-'a'.", "-\"s\".", "-{1}.", "-#{}.", "-[]."] {
        assert_eq!(msg(&fails(bad, "parse", 1)), "bad term", "{bad}");
    }
    fails("--1.", "parse", 1);
    fails("bnot 1.", "parse", 1);
    fails("1 + 2.", "parse", 1);
    fails("(a.", "parse", 1);
    fails("a).", "parse", 1);
}

#[test]
fn funs() {
    assert_eq!(read("fun lists:map/2."), Term::Export("lists".into(), "map".into(), 2));
    assert_eq!(read("{fun 'a b':'日'/0}."), Term::tuple([Term::Export("a b".into(), "日".into(), 0)]));
    for bad in ["fun m:f/256.", "fun f/1.", "fun M:f/1.", "fun m:F/1.", "fun m:f/A."] {
        assert_eq!(msg(&fails(bad, "parse", 1)), "bad term", "{bad}");
    }
    fails("fun (X) -> X end.", "parse", 1);
    fails("fun m:f.", "parse", 1);
}

#[test]
fn binaries() {
    let bits = |b: &[u8], n: u8| Term::Bits(b.to_vec(), n);
    for (src, v) in [
        ("<<>>.", bin(b"")),
        ("<< >>.", bin(b"")),
        ("<<\"a\">>.", bin(b"a")),
        ("<<1,2>>.", bin(&[1, 2])),
        ("<<\"é\"/utf8>>.", bin("é".as_bytes())),
        ("<<\"é\">>.", bin(&[233])),
        ("<<\"日\">>.", bin(&[0xE5])),
        ("<<\"x\"/utf16>>.", bin(&[0, 120])),
        ("<<\"日\"/utf16-little>>.", bin(&[0xE5, 0x65])),
        ("<<\"\u{1F600}\"/utf16>>.", bin(&[0xD8, 0x3D, 0xDE, 0x00])),
        ("<<$a/utf16-little, $b/utf32>>.", bin(&[97, 0, 0, 0, 0, 98])),
        ("<<$a/utf32-little>>.", bin(&[97, 0, 0, 0])),
        ("<<16#FFFE/utf8>>.", bin(&[0xEF, 0xBF, 0xBE])),
        ("<<1:16>>.", bin(&[0, 1])),
        ("<<1:16/little>>.", bin(&[1, 0])),
        ("<<\"abc\", 1>>.", bin(b"abc\x01")),
        ("<<\"abc\":16>>.", bin(&[0, 97, 0, 98, 0, 99])),
        ("<<\"ab\":16/little>>.", bin(&[97, 0, 98, 0])),
        ("<<\"abc\":8/integer-unit:1-unsigned-big>>.", bin(b"abc")),
        ("<<\"\":64/float>>.", bin(b"")),
        ("<<-1>>.", bin(&[255])),
        ("<<(-1)>>.", bin(&[255])),
        ("<<+1>>.", bin(&[1])),
        ("<<-$a>>.", bin(&[159])),
        ("<<256>>.", bin(&[0])),
        ("<<-1:16/signed-little>>.", bin(&[255, 255])),
        ("<<1:3, 2:5>>.", bin(&[34])),
        ("<<1:8/unit:8>>.", bin(&[0, 0, 0, 0, 0, 0, 0, 1])),
        ("<<1:2/unit:4>>.", bin(&[1])),
        ("<<1:0>>.", bin(b"")),
        ("<<1:8/native>>.", bin(&[1])),
        ("<<1/big-big>>.", bin(&[1])),
        ("<<1.5/float>>.", bin(&[63, 248, 0, 0, 0, 0, 0, 0])),
        ("<<1/float>>.", bin(&[63, 240, 0, 0, 0, 0, 0, 0])),
        ("<<\"a\"/float>>.", bin(&[64, 88, 64, 0, 0, 0, 0, 0])),
        ("<<1.5:32/float-little>>.", bin(&[0, 0, 192, 63])),
        ("<<1:1/float-unit:64>>.", bin(&[63, 240, 0, 0, 0, 0, 0, 0])),
        ("<<1.5:16/float>>.", bin(&[62, 0])),
        ("<<2.0:16/float-little>>.", bin(&[0, 64])),
        ("<<65504.0:16/float>>.", bin(&[123, 255])),
        ("<<65520.0:16/float>>.", bin(&[124, 0])),
        ("<<1.0e300:32/float>>.", bin(&[127, 128, 0, 0])),
        ("<<<<1,2,3>>:2/binary>>.", bin(&[1, 2])),
        ("<<<<1,2>>:all/binary>>.", bin(&[1, 2])),
        ("<<<<1,2>>:1/binary-unit:16>>.", bin(&[1, 2])),
        ("<<<<1>>:1/bytes>>.", bin(&[1])),
        ("<<<<1>>/binary, 2>>.", bin(&[1, 2])),
        ("<<<<1>>/binary, <<2>>/bytes, <<3>>/bits, <<4>>/bitstring>>.", bin(&[1, 2, 3, 4])),
        ("<<\"a\":undefined/utf8>>.", bin(b"a")),
        ("<<(1):(8)/integer>>.", bin(&[1])),
        ("<<$a:8/integer-unit:1-unsigned-big>>.", bin(b"a")),
        ("<<(1 ):8 / little - unsigned>>.", bin(&[1])),
        ("<<1:4>>.", bits(&[0x10], 4)),
        ("<<\"a\":4>>.", bits(&[0x10], 4)),
        ("<<16#ABC:12>>.", bits(&[171, 0xC0], 4)),
        ("<<16#ABC:12/little>>.", bits(&[188, 0xA0], 4)),
        ("<<16#12345:20/little>>.", bits(&[69, 35, 0x10], 4)),
        ("<<1:4/little>>.", bits(&[0x10], 4)),
        ("<<<<1:4>>/bits>>.", bits(&[0x10], 4)),
        ("<<<<1:4>>:4/bits>>.", bits(&[0x10], 4)),
        ("<<1:1, 1:1, <<255>>/binary>>.", bits(&[0xFF, 0xC0], 2)),
        ("<<1:1, \"ab\">>.", bits(&[0xB0, 0xB1, 0], 1)),
        ("<<1:1, 2.0:16/float, 1:7>>.", bin(&[0xA0, 0x00, 1])),
        (
            "<<-1:100>>.",
            bits(
                &[0xFF; 13]
                    .iter()
                    .copied()
                    .enumerate()
                    .map(|(k, b)| if k == 12 { 0xF0 } else { b })
                    .collect::<Vec<_>>(),
                4,
            ),
        ),
    ] {
        assert_eq!(read(src), v, "{src}");
    }
    assert_eq!(read("<<123456789012345678901234567890:128>>."), bin(&123456789012345678901234567890u128.to_be_bytes()));
    assert_eq!(
        read("<<-123456789012345678901234567890:128/little>>."),
        bin(&(-123456789012345678901234567890i128).to_le_bytes())
    );
    assert_eq!(read("<<16#123456789:16>>."), bin(&[0x67, 0x89]));
}

#[test]
fn binary_errors() {
    for bad in [
        "<<1.0>>.",
        "<<\"ab\"/binary>>.",
        "<<[1]/binary>>.",
        "<<1/integer-unit:8>>.",
        "<<1/unit:8>>.",
        "<<1:8/foo>>.",
        "<<1:8/unit>>.",
        "<<1:8/unit:0>>.",
        "<<1:8/unit:257>>.",
        "<<1/signed-unsigned>>.",
        "<<1/bytes-bits>>.",
        "<<1/integer:3>>.",
        "<<1:(-1)>>.",
        "<<<<1:4>>/binary>>.",
        "<<<<1:4>>/bytes>>.",
        "<<\"ab\":4/utf8>>.",
        "<<1:8/bytes>>.",
        "<<1/utf8-unit:8>>.",
        "<<\"\":8/float>>.",
        "<<1:12/float>>.",
        "<<16#D800/utf8>>.",
        "<<16#110000/utf16>>.",
        "<<-1/utf8>>.",
        "<<1.0/utf8>>.",
        "<<(#{})>>.",
        "<<<<1,2>>:3/binary>>.",
        "<<X>>.",
        "<<1:X>>.",
        "<<1:all>>.",
        "<<a>>.",
        "<<{1}>>.",
        "<<1:a>>.",
        "<<1:1.0>>.",
        "<<0:4294967296>>.",
        "<<0:1/unit:256, 0:134217728>>.",
        "<<\"aaaaaaaa\":134217728>>.",
    ] {
        assert_eq!(msg(&fails(bad, "parse", 1)), "bad term", "{bad}");
    }
    let huge = format!("<<{}:64/float>>.", "9".repeat(400));
    assert_eq!(msg(&fails(&huge, "parse", 1)), "bad term");
    for syntax in
        ["<<1:-1>>.", "<<#{}>>.", "<<1:8:8>>.", "<<1/8>>.", "<<1/unit:a>>.", "<<- -1>>.", "<<1,>>.", "<<1>.", "<<1:>>."]
    {
        assert!(msg(&fails(syntax, "parse", 1)).starts_with("syntax error"), "{syntax}");
    }
}

#[test]
fn comments_whitespace_and_dots() {
    assert_eq!(read("% c\n{a}. % c"), t([a("a")]));
    assert_eq!(read("{a}.%c"), t([a("a")]));
    assert_eq!(read("{a % c }\n}."), t([a("a")]));
    assert_eq!(read("{a}.\u{0}"), t([a("a")]));
    assert_eq!(read("{\u{a0}a\r\n}\t.\r"), t([a("a")]));
    assert_eq!(read("\u{85}a\u{a0}."), a("a"));
    // `.` not followed by white space is not a full stop.
    fails("a.b.", "parse", 1);
    assert_eq!(msg(&fails("{a}.{b}.", "parse", 1)), "syntax error before: '.'");
    // Other symbols are tokens, and so parse errors rather than scan errors.
    fails("{a,\u{7f}}.", "parse", 1);
    fails("{a,¡}.", "parse", 1);
    fails("{a,`}.", "parse", 1);
    fails("{a,...}.", "parse", 1);
    fails("{a,..}.", "parse", 1);
    fails("a;b.", "parse", 1);
    // Characters above Latin-1 outside strings, atoms and comments are illegal.
    fails("{a,☃}.", "scan", 1);
    fails("\u{feff}{a}.", "scan", 1);
    // U+FFFE is not a character erl_scan accepts even in a comment.
    fails("% \u{fffe}\n{a}.", "scan", 1);
    assert_eq!(read("% \u{fffd} 日本\n{a}."), t([a("a")]));
}

#[test]
fn end_of_input() {
    for (src, line) in [("", 1), ("\n\n", 3), ("% hi\n%x", 2), ("  \n \t", 2)] {
        let e = fails(src, "eof", line);
        assert_eq!(msg(&e), "unexpected end of file");
        assert_eq!(read_all_terms(src.as_bytes(), "t").unwrap(), vec![]);
    }
    // No terminating dot: reported on the line of the last token.
    assert_eq!(msg(&fails("{a,b}", "parse", 1)), "missing terminating dot");
    fails("{a,\nb}\n\n", "parse", 2);
    fails("[\n\n\n", "parse", 1);
    fails("{a}\n%x\n", "parse", 1);
    // With a syntax error too, that error is the one reported, as in OTP.
    fails("{a}.b", "parse", 1);
    fails("{a b", "parse", 1);
    fails("{a,\n\n}", "parse", 3);
    assert!(read_all_terms(b"{a}.\n{b}", "t").is_err());
}

#[test]
fn only_the_first_form_is_read() {
    assert_eq!(read("{a}. garbage '"), t([a("a")]));
    assert_eq!(read_bytes(b"{a}. \xff garbage"), t([a("a")]));
    assert_eq!(read("{a}.\n\"unterminated"), t([a("a")]));
    assert_eq!(read("{a}. {b}."), t([a("a")]));
    // The character after the dot is part of the dot, so must decode.
    assert_eq!(msg(&fail(b"{a}.\xff")), "invalid UTF-8");
    // A syntax error in the first form is the result, whatever follows.
    fails("{a b}. \"unterminated", "parse", 1);
    // But a scan error in the same form beats an earlier syntax error.
    fails("{a} {b} \"unterminated", "scan", 1);
    fails("{a} {b} 1.0e999.", "scan", 1);
    let e = fail(b"{a b} \n\n\xff.");
    assert_eq!((e.line, msg(&e).as_str()), (3, "invalid UTF-8"));
}

#[test]
fn read_all() {
    let all = read_all_terms(b"{a}.\n%c\n[1]. \"s\".\n", "t").unwrap();
    assert_eq!(all, vec![t([a("a")]), l([i(1)]), s("s")]);
    let e = read_all_terms(b"{a}.\n{b,}.\n", "t").unwrap_err();
    assert_eq!((e.line, msg(&e).as_str()), (2, "syntax error before: '}'"));
    let e = read_all_terms(b"{a}. garbage '", "t").unwrap_err();
    assert!(matches!(e.kind, ReadErrorKind::Scan(_)), "{e}");
    let e = read_all_terms(b"a.\n\nb, c.", "t").unwrap_err();
    assert_eq!((e.line, msg(&e).as_str()), (3, "bad term"));
}

#[test]
fn error_lines() {
    fails("{a,\n\n}.", "parse", 3);
    fails("{a,\n\n1.0e}.", "scan", 3);
    fails("\n(\n\nX).", "parse", 4);
    fails("{\n\nX}.", "parse", 1);
    fails("{'a'\n,\n\n}.", "parse", 4);
    fails("a,\n\nb.", "parse", 3);
    fails("{a,\n\n\"x\\q\n\\x{}\"}.", "scan", 4);
    let e = fails("\n{a,\n b c}.", "parse", 3);
    assert_eq!(e.to_string(), "t:3: syntax error before: c");
    assert_eq!(fail(b"[\n\n\n").to_string(), "t:1: missing terminating dot");
}

#[test]
fn syntax_error_messages() {
    for (src, m) in [
        ("{a,}.", "syntax error before: '}'"),
        ("{a b}.", "syntax error before: b"),
        ("{a 'B'}.", "syntax error before: 'B'"),
        ("{a 1}.", "syntax error before: 1"),
        ("{a 1.5}.", "syntax error before: 1.5"),
        ("{a \"s\"}.", "syntax error before: \"s\""),
        ("{a $x}.", "syntax error before: $x"),
        ("{a end}.", "syntax error before: 'end'"),
        ("{a {}.", "syntax error before: '{'"),
        ("{a, {}.", "syntax error before: '.'"),
    ] {
        assert_eq!(msg(&fail(src.as_bytes())), m, "{src}");
    }
}

#[test]
fn encoding_declarations() {
    let latin1 = |body: &[u8]| {
        let mut v = b"%% coding: latin-1\n".to_vec();
        v.extend_from_slice(body);
        v
    };
    assert_eq!(read_bytes(&latin1(b"'\xe9'.")), a("é"));
    assert_eq!(read_bytes(&latin1(b"\xe9a.")), a("éa"));
    assert_eq!(read_bytes(&latin1(b"\"\xe9\xff\x80\".")), l([i(233), i(255), i(128)]));
    assert_eq!(read_bytes(&latin1(b"{\xa0a}.")), t([a("a")]));
    assert_eq!(read_bytes(&latin1(b"<<\"\xe9\"/utf8>>.")), bin("é".as_bytes()));
    fails(std::str::from_utf8(&latin1(b"")).unwrap(), "eof", 2);
    assert!(matches!(fail(&latin1(b"\xc9a.")).kind, ReadErrorKind::Parse(_)));
    for header in [
        &b"%% -*- coding: latin-1 -*-\n"[..],
        b"\n%% coding: latin-1\n",
        b"x % coding: latin-1\n",
        b"%% encoding = LATIN-1-foo\n",
        b"%% coding:latin-1\n",
        b"%% cod coding latin-1 coding: latin-1\n",
        b"%coding:  Latin-1",
    ] {
        let mut v = header.to_vec();
        v.extend_from_slice(b"\n'\xe9'.");
        match read_first_term(&v, "t") {
            Ok(t) => assert_eq!(t, a("é"), "{:?}", String::from_utf8_lossy(header)),
            // `x % coding...` is latin-1 but `x 'é'` is not a term.
            Err(e) => assert!(header.starts_with(b"x") && matches!(e.kind, ReadErrorKind::Parse(_)), "{e}"),
        }
    }
    for header in [
        &b"\n\n%% coding: latin-1\n"[..],
        b"%% coding: latin1\n",
        b"%% coding: utf-8\n",
        b"%% coding: bogus coding: latin-1\n",
        b"coding: latin-1\n",
        b"%% coding latin-1\n",
    ] {
        let mut v = header.to_vec();
        v.extend_from_slice(b"'\xe9'.");
        assert_eq!(msg(&fail(&v)), "invalid UTF-8", "{:?}", String::from_utf8_lossy(header));
    }
    // epp reads no more than 512 bytes looking for the declaration.
    let mut v = format!("%{}coding: latin-1\n", " ".repeat(490)).into_bytes();
    v.extend_from_slice(b"'\xe9'.");
    assert_eq!(read_bytes(&v), a("é"));
    let mut v = format!("%{}coding: latin-1\n", " ".repeat(500)).into_bytes();
    v.extend_from_slice(b"'\xe9'.");
    assert!(read_first_term(&v, "t").is_err());
    // UTF-8 is the default.
    assert_eq!(read("'é'."), a("é"));
    assert_eq!(read("%% coding: utf-8\n'é'."), a("é"));
}

#[test]
fn invalid_utf8() {
    for src in [
        &b"{a,\xff}."[..],
        b"\"\xff\".",
        b"% \xff\n{a}.",
        b"a\xff.",
        b"\xc3",
        b"'a\xed\xa0\x80'.",
        b"$\xf4\x90\x80\x80.",
    ] {
        let e = fail(src);
        assert_eq!(msg(&e), "invalid UTF-8", "{src:?}");
        assert!(matches!(e.kind, ReadErrorKind::Scan(_)));
    }
    assert_eq!(fail(b"{a,\n\n\xff}.").line, 3);
}

#[test]
fn deep_nesting_is_refused_without_overflow() {
    for open in ["[", "{", "(", "- ", "#{a=>", "<<(", "[a|", "<<-(", "<<1:("] {
        let src = format!("{} .", open.repeat(200_000));
        let e = fail(src.as_bytes());
        assert_eq!(msg(&e), "nesting too deep", "{open}: {e}");
    }
    assert_eq!(msg(&fail("[".repeat(200_000).as_bytes())), "nesting too deep");
    // The limit itself is allowed, and such terms drop, clone and compare fine.
    let nested = |n: usize| format!("{}a{}.", "[".repeat(n), "]".repeat(n));
    let term = read(&nested(MAX_DEPTH));
    assert!(term.clone() == term);
    assert_eq!(msg(&fails(&nested(MAX_DEPTH + 1), "parse", 1)), "nesting too deep");
    let key = format!("{}x{}", "{".repeat(MAX_DEPTH - 1), "}".repeat(MAX_DEPTH - 1));
    assert!(matches!(read(&format!("#{{{key} => 1, {key} => 2}}.")), Term::Map(m) if m.len() == 1));
}

#[test]
fn realistic_app_file() {
    let src = r#"%% -*- erlang -*-
{application, fastrel,
 [{description, "Fast \"release\" tooling"},
  {vsn, "0.1.0"},
  {modules, [fastrel_cli, relnif]},
  {registered, []},
  {applications, [kernel, stdlib, sasl]},
  {env, [{opt, #{'key' => <<"value">>, n => -1.5e-3}}, {list, [1, 2 | [3]]}]},
  {mod, {fastrel_app, []}}
 ]}.
"#;
    let term = read(src);
    let Term::Tuple(items) = &term else { panic!() };
    assert_eq!(items[0], a("application"));
    assert_eq!(items[1], a("fastrel"));
    let props = items[2].as_list().unwrap();
    assert_eq!(props[0], t([a("description"), s("Fast \"release\" tooling")]));
    assert_eq!(
        props[5],
        t([
            a("env"),
            l([
                t([a("opt"), Term::map(vec![(a("key"), bin(b"value")), (a("n"), Term::Float(-1.5e-3))])]),
                t([a("list"), l([i(1), i(2), i(3)])])
            ])
        ])
    );
    assert_eq!(read_all_terms(src.as_bytes(), "x").unwrap(), vec![term]);
}

#[test]
fn a_large_app_file() {
    // ~100 KB of typical .app content.
    let mut src = String::from("{application, big, [{vsn, \"1.0.0\"}, {modules, [");
    let mut k: usize = 0;
    while src.len() < 100_000 {
        src.push_str(&format!("mod_{k:05}, "));
        if k.is_multiple_of(7) {
            src.push_str(&format!("\n  {{env_{k}, \"some string value {k}\", [{k}, {k}.5, <<\"bin\">>]}}, "));
        }
        k += 1;
    }
    src.push_str("last]}]}.\n");
    // Speed is bench/'s business (make_script.escript); here, that it all reads.
    let t = read(&src);
    let items = t.as_tuple().unwrap()[2].as_list().unwrap();
    let modules = items[1].as_tuple().unwrap()[1].as_list().unwrap();
    assert_eq!(modules.len(), k + 1 + k.div_ceil(7));
    assert_eq!(modules.last(), Some(&Term::atom("last")));
}

#[test]
fn f16_rounding() {
    for (x, bits) in [
        (0.0, 0x0000),
        (-0.0, 0x8000),
        (1.0, 0x3C00),
        (-2.0, 0xC000),
        (65504.0, 0x7BFF),
        (65519.99, 0x7BFF),
        (65520.0, 0x7C00),
        (1e10, 0x7C00),
        (6.103515625e-5, 0x0400),        // 2^-14, smallest normal
        (5.960464477539063e-8, 0x0001),  // 2^-24, smallest subnormal
        (2.9802322387695312e-8, 0x0000), // 2^-25 ties to even (zero)
        (2.980232238769532e-8, 0x0001),  // just above the tie
        (1.0009765625, 0x3C01),
        (1.00048828125, 0x3C00), // tie, to even
        (1.00146484375, 0x3C02), // tie, to even (up)
    ] {
        assert_eq!(f16_bits(x), bits, "{x}");
    }
}

#[test]
fn bitbuf_alignment() {
    let mut b = BitBuf::default();
    b.push(&[0b1010_0000], 3).unwrap();
    b.push(&[0xFF, 0x80], 9).unwrap();
    b.push(&[0x00], 4).unwrap();
    assert_eq!((b.bytes.as_slice(), b.bits), (&[0b1011_1111, 0b1111_0000][..], 16));
}

// ---- differential testing against OTP -----------------------------------------------

fn oracle_decode(bytes: &[u8]) -> Term {
    crate::term::etf::decode(bytes).expect("the oracle wrote valid ETF")
}

/// Exact structural equality: unlike `==`, floats compare by bit pattern, so a lost
/// sign of zero or a last-bit rounding difference shows.
fn same(a: &Term, b: &Term) -> bool {
    let all = |x: &[Term], y: &[Term]| x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q));
    match (a, b) {
        (Term::Float(x), Term::Float(y)) => x.to_bits() == y.to_bits(),
        (Term::List(x), Term::List(y)) | (Term::Tuple(x), Term::Tuple(y)) => all(x, y),
        (Term::Improper(x, xt), Term::Improper(y, yt)) => all(x, y) && same(xt, yt),
        // The VM's order of a map's pairs is its own (atom index since OTP 26).
        (Term::Map(x), Term::Map(y)) => {
            x.len() == y.len() && x.iter().all(|(k1, v1)| y.iter().any(|(k2, v2)| same(k1, k2) && same(v1, v2)))
        }
        _ => a == b,
    }
}

/// Runs the oracle escript; `None` (with a note) when there is no `escript`.
fn oracle_cases(mode: &str, seed: u64, n: usize) -> Option<Vec<(String, Vec<u8>, Term)>> {
    crate::term::oracle::escript_on_path()?;
    SCANNER_RULES_HERE.with(|c| c.set(Some(crate::term::oracle::vm_scanner_rules())));
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reader_oracle.escript");
    let dir = std::env::temp_dir().join(format!("fastrel_reader_oracle_{mode}_{}", std::process::id()));
    let run = std::process::Command::new("escript")
        .arg(&script)
        .arg(mode)
        .arg(&dir)
        .arg(seed.to_string())
        .arg(n.to_string())
        .output();
    let out = match run {
        Err(e) => panic!("running {}: {e}", script.display()),
        Ok(out) => out,
    };
    assert!(out.status.success(), "oracle failed: {}", String::from_utf8_lossy(&out.stderr));
    let cases = (1..=n)
        .map(|i| {
            let base = dir.join(format!("case_{i:04}"));
            let text = std::fs::read(base.with_extension("txt")).unwrap();
            let expected = oracle_decode(&std::fs::read(base.with_extension("etf")).unwrap());
            (base.with_extension("txt").display().to_string(), text, expected)
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    Some(cases)
}

fn tagged<'t>(t: &'t Term, tag: &str) -> Option<&'t [Term]> {
    t.as_tuple().filter(|items| items.first().is_some_and(|h| h.is_atom(tag)))
}

#[test]
fn matches_otp_on_random_valid_terms() {
    let seed = std::env::var("FASTREL_ORACLE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20240611);
    let Some(cases) = oracle_cases("valid", seed, 500) else { return };
    let mut compared_all = 0;
    for (name, text, expected) in &cases {
        let [first, all] = expected.as_tuple().unwrap() else { panic!("{expected:?}") };
        let want = &tagged(first, "ok").unwrap_or_else(|| panic!("{name}: {first:?}"))[1];
        let got = read_first_term(text, name).unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(text)));
        assert!(same(&got, want), "{name}\n{}\nread {got:?}\nOTP  {want:?}", String::from_utf8_lossy(text));
        if let Some([_, want_all]) = tagged(all, "ok") {
            let got_all = read_all_terms(text, name).unwrap_or_else(|e| panic!("{e}"));
            assert!(same(&Term::List(got_all), want_all), "{name}: read_all_terms differs");
            compared_all += 1;
        }
    }
    assert!(compared_all > cases.len() / 2, "{compared_all}");
}

/// Mostly-broken input: whether a file reads, and if not whether the scanner or the
/// parser refuses it, must agree with OTP; so must the term when it does read.
#[test]
fn matches_otp_on_mutated_text() {
    let seed = std::env::var("FASTREL_ORACLE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(77);
    let Some(cases) = oracle_cases("errors", seed, 500) else { return };
    let (mut line_mismatch, mut operator_then_eof) = (Vec::new(), Vec::new());
    let mut outcomes = std::collections::BTreeMap::new();
    for (name, text, expected) in &cases {
        let [first, all] = expected.as_tuple().unwrap() else { panic!("{expected:?}") };
        let shown = String::from_utf8_lossy(text);
        let class = match first {
            Term::Atom(a) => a.to_string(),
            Term::Tuple(t) if t.len() == 3 => format!("parse/{:?}", t[2]),
            Term::Tuple(t) => format!("{:?}", t[0]),
            _ => "?".into(),
        };
        *outcomes.entry(class).or_insert(0) += 1;
        for (want, got) in [(first, read_first_term(text, name).map(|t| vec![t])), (all, read_all_terms(text, name))] {
            let is_first = std::ptr::eq(want, first);
            match (want, &got) {
                (Term::Atom(a), _) if a == "skip" => {}
                (Term::Atom(a), Err(e)) if a == "read" => {
                    assert!(matches!(e.kind, ReadErrorKind::Scan(_) | ReadErrorKind::Eof), "{name}: {e}\n{shown}")
                }
                // file:consult crashes on some undecodable input after a term.
                (Term::Atom(a), Err(_)) if a == "crash" => {}
                (w, Ok(terms)) if tagged(w, "ok").is_some() => {
                    let v = &tagged(w, "ok").unwrap()[1];
                    let got = if is_first { terms[0].clone() } else { Term::List(terms.clone()) };
                    assert!(same(&got, v), "{name}\n{shown}\nread {got:?}\nOTP  {v:?}");
                }
                (w, Err(e)) if tagged(w, "scan").is_some() => {
                    assert!(matches!(e.kind, ReadErrorKind::Scan(_)), "{name}: {e}\n{shown}");
                }
                (w, Err(e)) if tagged(w, "parse").is_some() => {
                    let p = tagged(w, "parse").unwrap();
                    let line = match p[1] {
                        Term::Int(l) => l as u32,
                        _ => panic!("{w:?}"),
                    };
                    if p[2].is_atom("missing_dot") {
                        match &e.kind {
                            ReadErrorKind::Parse(m) if m == "missing terminating dot" => {
                                assert_eq!(e.line, line, "{name}\n{shown}")
                            }
                            // erl_parse took an operator we refuse (`{a} :`) as the
                            // start of an expression, and ran out of tokens after it.
                            ReadErrorKind::Parse(m) if m.starts_with("syntax error before: ") => {
                                operator_then_eof.push(format!("{name}: {e}"))
                            }
                            _ => panic!("{name}: {e}, OTP: missing dot\n{shown}"),
                        }
                    } else {
                        assert!(matches!(e.kind, ReadErrorKind::Parse(_)), "{name}: {e} vs {w:?}\n{shown}");
                        if e.line != line {
                            line_mismatch.push(format!("{name}: OTP line {line} {:?}, ours {e}", p[2]));
                        }
                    }
                }
                (w, got) => panic!("{name}: OTP {w:?}, ours {got:?}\n{shown}"),
            }
        }
    }
    println!("read_term outcomes: {outcomes:?}");
    println!("{} parse errors reported on another line than OTP's:", line_mismatch.len());
    for m in &line_mismatch {
        println!("  {m}");
    }
    println!("{} dotless forms OTP reads as operator expressions:", operator_then_eof.len());
    for m in &operator_then_eof {
        println!("  {m}");
    }
}

// ---- robustness ------------------------------------------------------------------

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const CORPUS: &[&str] = &[
    "{a, 'b c', \"str\\n\\x{41}\", 16#FF, 1.5e-3, $\\^A, [1, 2 | c], #{k => <<\"v\"/utf8>>}}.",
    "%% coding: latin-1\n{'\u{e9}', \"x\"}.",
    "<<1:4, 16#ABC:12/little, \"ab\":16, 1.5:16/float, <<7>>/binary, $a/utf16>>.",
    "[{kernel, [{logger_level, info}]}, {sasl, [{sasl_error_logger, false}]}].\n{x}.",
    "{release, {\"r\", \"1\"}, {erts, \"13.0\"}, [{kernel, \"8.0\"}, {stdlib, \"4.0\", load}]}.",
    "fun m:f/1. - (1). (a). \"a\" \"b\". 'end'. [a|[b|c]].",
    "{1_000, 2#1_0, 36#zZ, -9223372036854775809, 1_0.5e1_0}.",
    "% c\n\n{a,\n\n}.",
];

fn check_total(input: &[u8]) {
    let first = read_first_term(input, "f");
    let all = read_all_terms(input, "f");
    // When every form reads, the first of them is what read_first_term returns.
    if let (Ok(all), Ok(first)) = (&all, &first) {
        assert_eq!(all.first(), Some(first), "{:?}", String::from_utf8_lossy(input));
    }
    for e in [first.err(), all.err()].into_iter().flatten() {
        let lines = input.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        assert!(e.line >= 1 && e.line <= lines, "{e} for {:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn never_panics_on_random_input() {
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    // Bytes weighted towards the ones the scanner treats specially.
    let alphabet: &[u8] = b"{}[]()<<>>#=>:|,.$%\"'\\^_-+/ \n\t0123456789abcxyzXY#efEFuntil\xc3\xa9\xff\xef\xbf";
    for round in 0..200_000 {
        let len = rng.below(48);
        let input: Vec<u8> = (0..len)
            .map(|_| if round % 4 == 0 { rng.next() as u8 } else { alphabet[rng.below(alphabet.len())] })
            .collect();
        check_total(&input);
    }
}

#[test]
fn never_panics_on_mutated_input() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for round in 0..40_000 {
        let mut input = CORPUS[round % CORPUS.len()].as_bytes().to_vec();
        for _ in 0..=rng.below(4) {
            let at = rng.below(input.len() + 1);
            match rng.below(4) {
                0 => input.truncate(at),
                1 if at < input.len() => input[at] ^= 1 << rng.below(8),
                2 => input.insert(at, rng.next() as u8),
                _ => {
                    let from = rng.below(input.len() + 1);
                    let chunk: Vec<u8> = input[from.min(at)..from.max(at)].to_vec();
                    input.splice(at..at, chunk);
                }
            }
        }
        check_total(&input);
    }
}
