#!/usr/bin/env escript
%% -*- erlang -*-
%%
%% Differential oracle for fastrel's term reader (native/fastrel_core/src/term/reader/).
%%
%%   escript reader_oracle.escript valid|errors OutDir Seed N
%%
%% Writes N cases to OutDir: case_NNNN.txt holds term text, case_NNNN.etf holds
%% term_to_binary({First, All}, [{minor_version, 1}]) where First is what
%% systools_lib:read_term/1 made of the file and All what file:consult/1 did, both
%% normalised (see first/1, all/1).
%%
%% "valid" cases are random terms of every kind the reader supports, rendered by
%% io_lib (~w, ~p, ~tp, ~tw) or by a renderer that picks among the many spellings of
%% each value (escapes, bases, digit separators, $c, adjacent strings, [H|T] splits,
%% binary segments with sizes and types, parentheses, unary minus), with white space
%% and comments between tokens, sometimes as Latin-1 with a coding comment, sometimes
%% with trailing garbage after the first form (then All is 'skip'). Every valid case is
%% checked to read back as the generated terms; a mismatch is a bug in this renderer
%% and stops the script with exit status 2.
%%
%% "errors" cases are valid texts with a few random character edits, which mostly
%% make them unreadable in one way or another.
-mode(compile).

main([Mode, Dir, SeedS, NS]) ->
    Seed = list_to_integer(SeedS),
    _ = rand:seed(exsss, {Seed, Seed bxor 16#5DEECE66D, 17}),
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    _ = [one(list_to_atom(Mode), Dir, I) || I <- lists:seq(1, list_to_integer(NS))],
    ok;
main(_) ->
    io:format(standard_error, "usage: reader_oracle.escript valid|errors Dir Seed N~n", []),
    halt(1).

one(Mode, Dir, I) ->
    Terms = [term(3) || _ <- lists:seq(1, rand:uniform(3))],
    Forms = [[render(T), sep(), "."] || T <- Terms],
    Body0 = lists:flatten(join_forms(Forms)),
    Garbage = Mode =:= valid andalso rand:uniform(5) =:= 1,
    Body1 = case Garbage of
                true -> Body0 ++ pick([" garbage '", "\n{unterminated", " 1.0e999 ", "\n\"abc"]);
                false -> Body0
            end,
    Body = case Mode of
               errors -> mutate(Body1, rand:uniform(3));
               valid -> Body1
           end,
    Bytes = encode(Body),
    Base = filename:join(Dir, lists:flatten(io_lib:format("case_~4..0w", [I]))),
    File = Base ++ ".txt",
    ok = file:write_file(File, Bytes),
    First = first(File),
    All = case Garbage of
              true -> skip;
              false -> all(File)
          end,
    case Mode of
        valid when First =/= {ok, hd(Terms)}; All =/= skip, All =/= {ok, Terms} ->
            io:format(standard_error, "renderer bug in ~s:~n~tp~n~tp~nread back as~n~tp~n~tp~n",
                      [File, Terms, Body, First, All]),
            halt(2);
        _ ->
            ok
    end,
    ok = file:write_file(Base ++ ".etf", term_to_binary({First, All}, [{minor_version, 1}])).

join_forms([F]) -> F;
join_forms([F | Fs]) -> [F, pick(["\n", " ", "\t", "%c\n", "\n\n"]), join_forms(Fs)].

%% Reading, normalised: {ok, Term} | read | {parse, Line, missing_dot | syntax | bad_term}.
first(File) ->
    case try systools_lib:read_term(File) catch C:R -> {'EXIT', {C, R}} end of
        {ok, T} -> {ok, T};
        {error, {read, _}} -> read;
        {error, {parse, _, {L, erl_parse, Msg}}} -> {parse, L, parse_kind(Msg)};
        Other -> {other, Other}
    end.

%% {ok, Terms} | {scan, Line} | {parse, Line, Kind}; file:consult/1 can also crash on
%% invalid UTF-8 after a term ({case_clause, {error, tokens}}), kept as 'crash'.
all(File) ->
    case try file:consult(File) catch C:R -> {'EXIT', {C, R}} end of
        {ok, Ts} -> {ok, Ts};
        {error, {L, erl_parse, Msg}} -> {parse, L, parse_kind(Msg)};
        {error, {L, erl_scan, _}} -> {scan, L};
        {error, {L, file_io_server, _}} -> {scan, L};
        {'EXIT', _} -> crash;
        Other -> {other, Other}
    end.

parse_kind(["syntax error before: ", []]) -> missing_dot;
parse_kind(["syntax error before: ", _]) -> syntax;
parse_kind("bad term") -> bad_term;
parse_kind(_) -> other.

%% Latin-1 (declared) when every character fits, sometimes; UTF-8 otherwise.
encode(Body) ->
    case lists:all(fun(C) -> C =< 255 end, Body) andalso rand:uniform(4) =:= 1 of
        true ->
            Header = pick(["%% -*- coding: latin-1 -*-\n", "%% coding: latin-1\n",
                           "\n% encoding = LATIN-1\n", "x % coding: latin-1\n"]),
            %% "x" would make the text unreadable; keep it only in error cases.
            H = case Header of "x" ++ _ -> "%% coding: latin-1\n"; _ -> Header end,
            list_to_binary(H ++ Body);
        false ->
            Header = pick(["", "", "", "%% coding: utf-8\n", "%% -*- erlang -*-\n"]),
            unicode:characters_to_binary(Header ++ Body)
    end.

mutate(Body, 0) ->
    Body;
mutate(Body, K) ->
    N = length(Body),
    At = rand:uniform(N + 1) - 1,
    {Pre, Post} = lists:split(At, Body),
    New = case {rand:uniform(4), Post} of
              {1, [_ | Rest]} -> Pre ++ Rest;
              {2, [C | Rest]} -> Pre ++ [C, C | Rest];
              {3, [C1, C2 | Rest]} -> Pre ++ [C2, C1 | Rest];
              _ -> Pre ++ [pick("{}[](),|.\"'$\\#<>=:/-+% \naX_09eé日^x")] ++ Post
          end,
    mutate(New, K - 1).

%% ---- terms -----------------------------------------------------------------------

term(0) -> leaf();
term(D) ->
    case rand:uniform(12) of
        N when N =< 4 -> leaf();
        5 -> list_to_tuple(terms(D - 1, 4));
        6 -> terms(D - 1, 4);
        7 -> lists:foldr(fun(X, Acc) -> [X | Acc] end, non_list(), terms(D - 1, 3) ++ [term(D - 1)]);
        8 -> maps:from_list([{term(D - 1), term(D - 1)} || _ <- lists:seq(1, rand:uniform(4) - 1)]);
        9 -> string();
        10 -> binary();
        11 -> terms(D - 1, 2) ++ string();
        12 -> [term(D - 1) | string()]
    end.

terms(D, Max) -> [term(D) || _ <- lists:seq(1, rand:uniform(Max + 1) - 1)].

leaf() ->
    case rand:uniform(8) of
        1 -> atom();
        2 -> int();
        3 -> float();
        4 -> string();
        5 -> binary();
        6 -> bitstring();
        7 -> pick([[], {}, #{}, <<>>, "", [[]]]);
        8 -> atom()
    end.

non_list() ->
    case rand:uniform(4) of
        1 -> atom();
        2 -> int();
        3 -> float();
        4 -> binary()
    end.

%% A character erl_scan accepts in strings: anything but surrogates, U+FFFE, U+FFFF.
char() ->
    case rand:uniform(10) of
        1 -> rand:uniform(32) - 1;
        N when N =< 5 -> 31 + rand:uniform(95);
        6 -> 126 + rand:uniform(130);
        7 -> 127 + rand:uniform(128);
        8 -> 16#FF + rand:uniform(16#D7FF - 16#FF);
        9 -> 16#DFFF + rand:uniform(16#FFFD - 16#DFFF);
        10 -> 16#FFFF + rand:uniform(16#10FFFF - 16#FFFF)
    end.

string() ->
    case rand:uniform(3) of
        1 -> [31 + rand:uniform(95) || _ <- lists:seq(1, rand:uniform(12) - 1)];
        _ -> [char() || _ <- lists:seq(1, rand:uniform(12) - 1)]
    end.

atom() ->
    case rand:uniform(3) of
        1 -> pick(['hello world', '', 'A', '_x', 'é', '日本', 'end', 'fun', 'maybe', 'else',
                   'a@b', 'aÉ', 'ß', 'a.b', '\n', 'x\'y', 'ok', 'kernel', 'true', 'a\\b',
                   '\x{1F600}', 'ÿ', 'Ä', '$', '"', 'c_1@2']);
        _ -> list_to_atom(lists:sublist(string(), 255))
    end.

int() ->
    case rand:uniform(6) of
        1 -> rand:uniform(201) - 101;
        2 -> rand:uniform(1 bsl 32) - (1 bsl 31);
        3 -> rand:uniform(1 bsl 64) - (1 bsl 63);
        4 -> pick([9223372036854775807, -9223372036854775808, 9223372036854775808,
                   -9223372036854775809, 0, 255, 256, -1]);
        5 -> pick([1, -1]) * rand:uniform(1 bsl rand:uniform(400));
        6 -> char()
    end.

float() ->
    case rand:uniform(6) of
        1 -> (rand:uniform() - 0.5) * math:pow(10, rand:uniform(40) - 20);
        2 -> random_bits_float();
        3 -> float(rand:uniform(2001) - 1001);
        4 -> pick([0.0, neg_zero(), 5.0e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                   -1.7976931348623157e308, 0.1, 1.0e21, 1.0e-7, 123456789.125]);
        5 -> try math:pow(2, rand:uniform(2000) - 1075) catch _:_ -> 1.5 end;
        6 -> rand:uniform()
    end.

random_bits_float() ->
    try
        <<F:64/float>> = <<(rand:uniform(1 bsl 64) - 1):64>>,
        F
    catch
        _:_ -> random_bits_float()
    end.

neg_zero() ->
    <<F:64/float>> = <<1:1, 0:63>>,
    F.

binary() ->
    case rand:uniform(3) of
        1 -> list_to_binary([rand:uniform(256) - 1 || _ <- lists:seq(1, rand:uniform(10) - 1)]);
        2 -> unicode:characters_to_binary(string());
        3 -> list_to_binary([31 + rand:uniform(95) || _ <- lists:seq(1, rand:uniform(10) - 1)])
    end.

bitstring() ->
    K = rand:uniform(7),
    <<(binary())/binary, (rand:uniform(1 bsl K) - 1):K>>.

%% ---- rendering -------------------------------------------------------------------

render(T) ->
    case rand:uniform(10) of
        1 -> io_lib:format("~w", [T]);
        2 -> io_lib:format("~p", [T]);
        3 -> io_lib:format("~tp", [T]);
        4 -> io_lib:format("~tw", [T]);
        _ -> r(T)
    end.

%% Any term, anywhere an expression may stand.
r(T) ->
    case rand:uniform(12) of
        1 -> io_lib:format("~tw", [T]);
        2 -> ["(", sep(), r1(T), sep(), ")"];
        _ -> r1(T)
    end.

r1(T) when is_atom(T) -> atom_text(T);
r1(T) when is_integer(T) -> int_text(T);
r1(T) when is_float(T) -> float_text(T);
r1(T) when is_tuple(T) -> ["{", sep(), elems(tuple_to_list(T)), sep(), "}"];
r1(T) when is_map(T) -> map_text(T);
r1(T) when is_bitstring(T) -> bin_text(T);
r1(T) when is_list(T) -> list_text(T).

elems([]) -> "";
elems([X]) -> r(X);
elems([X | Xs]) -> [r(X), sep(), ",", sep(), elems(Xs)].

sep() ->
    case rand:uniform(14) of
        N when N =< 6 -> "";
        7 -> " ";
        8 -> "\n";
        9 -> "\t";
        10 -> "\r\n";
        11 -> "  \n  ";
        12 -> [" %", pick(["", " comment", " ünïcödé 日本", " '\"$\\"]), "\n"];
        13 -> [160];
        14 -> "\n\n"
    end.

map_text(M) ->
    Pairs = maps:to_list(M),
    %% An earlier duplicate key must lose to the later one.
    Dup = case Pairs of
              [{K, _} | _] -> case rand:uniform(4) of 1 -> [{K, dup}]; _ -> [] end;
              [] -> []
          end,
    ["#{", sep(), pairs(Dup ++ shuffle(Pairs)), sep(), "}"].

pairs([]) -> "";
pairs([{K, V}]) -> [r(K), sep(), "=>", sep(), r(V)];
pairs([P | Ps]) -> [pairs([P]), sep(), ",", sep(), pairs(Ps)].

shuffle(L) -> [X || {_, X} <- lists:sort([{rand:uniform(), X} || X <- L])].

list_text([]) ->
    pick(["[]", "[ ]", "\"\"", ["[", sep(), "]"], ["\"\"", string_sep(), "\"\""]]);
list_text(L) ->
    case is_charlist(L) andalso rand:uniform(3) > 1 of
        true -> string_text(L);
        false -> cons_text(L)
    end.

%% A proper or improper non-empty list as [Elems | Tail] or [Elems].
cons_text(L) ->
    {Proper, Tail} = split_improper(L, []),
    case {Tail, rand:uniform(3)} of
        {[], 1} when length(Proper) > 1 ->
            K = rand:uniform(length(Proper) - 1),
            {A, B} = lists:split(K, Proper),
            ["[", sep(), elems(A), sep(), "|", sep(), r(B), sep(), "]"];
        {[], _} ->
            ["[", sep(), elems(Proper), sep(), "]"];
        {_, 1} when length(Proper) > 1 ->
            K = rand:uniform(length(Proper) - 1),
            {A, B} = lists:split(K, Proper),
            ["[", sep(), elems(A), sep(), "|", sep(), r(B ++ Tail), sep(), "]"];
        _ ->
            ["[", sep(), elems(Proper), sep(), "|", sep(), r(Tail), sep(), "]"]
    end.

split_improper([H | T], Acc) -> split_improper(T, [H | Acc]);
split_improper(Tail, Acc) -> {lists:reverse(Acc), Tail}.

is_charlist(L) ->
    try lists:all(fun is_char/1, L) catch _:_ -> false end.

is_char(C) ->
    is_integer(C) andalso C >= 0 andalso
        (C < 16#D800 orelse (C > 16#DFFF andalso C < 16#FFFE) orelse (C > 16#FFFF andalso C =< 16#10FFFF)).

%% Between two literals of one string: from OTP 27 on (triple-quoted strings) the
%% scanner refuses two literals with nothing between them.
string_sep() ->
    case {sep(), erl_scan:string([$", $a, $", $", $b, $", $.])} of
        {"", {error, _, _}} -> " ";
        {S, _} -> S
    end.

%% A string, maybe split into adjacent literals.
string_text(L) ->
    case length(L) >= 2 andalso rand:uniform(3) =:= 1 of
        true ->
            {A, B} = lists:split(rand:uniform(length(L) - 1), L),
            [quoted(A, $"), string_sep(), string_text(B)];
        false ->
            quoted(L, $")
    end.

quoted(S, Q) -> [Q, qchars(S, Q), Q].

qchars([], _) -> [];
qchars([C | Cs], Q) ->
    Next = case Cs of [N | _] -> N; [] -> none end,
    [qchar(C, Q, Next) | qchars(Cs, Q)].

%% One character inside quotes Q, raw or in one of its escape spellings.
qchar(C, Q, Next) ->
    Raw = [C || C =/= Q, C =/= $\\],
    Options = Raw ++ escapes(C, Next),
    lists:nth(rand:uniform(length(Options)), Options).

escapes(C, Next) ->
    OctalNext = is_integer(Next) andalso Next >= $0 andalso Next =< $7,
    [[$\\ | oct(C, 3)] || C < 512] ++
    [[$\\ | oct(C, 1)] || C < 8, not OctalNext] ++
    [[$\\ | oct(C, 2)] || C < 64, not OctalNext] ++
    [[$\\, $x | hex(C, 2)] || C < 256] ++
    [[$\\, $x, ${ | hex(C, rand:uniform(3))] ++ "}"] ++
    [named(C) || named(C) =/= none] ++
    [[$\\, $^, C + 64] || C < 32] ++
    %% \^a..\^z only: OTP 27+ refuses \^{ and the rest of that column.
    [[$\\, $^, C + 96] || C >= 1, C =< 26] ++
    [[$\\, $\n] || C =:= $\n] ++
    [[$\\, C] || not lists:member(C, "01234567xX^nrtvbfesd\n")].

named($\b) -> "\\b";
named($\d) -> "\\d";
named($\e) -> "\\e";
named($\f) -> "\\f";
named($\n) -> "\\n";
named($\r) -> "\\r";
named($\s) -> "\\s";
named($\t) -> "\\t";
named($\v) -> "\\v";
named($\\) -> "\\\\";
named($") -> "\\\"";
named($') -> "\\'";
named(_) -> none.

oct(C, Min) -> pad(integer_to_list(C, 8), Min).
hex(C, Min) -> randcase(pad(integer_to_list(C, 16), Min)).

pad(S, Min) when length(S) < Min -> pad([$0 | S], Min);
pad(S, _) -> S.

randcase(S) -> [case rand:uniform(2) of 1 -> string:to_lower(Ch); 2 -> Ch end || Ch <- S].

atom_text(A) ->
    S = atom_to_list(A),
    case unquoted_ok(S) andalso rand:uniform(3) > 1 of
        true -> S;
        false -> quoted(S, $')
    end.

unquoted_ok([C | Cs] = S) ->
    is_lower(C) andalso lists:all(fun is_namechar/1, Cs) andalso not reserved(S);
unquoted_ok([]) ->
    false.

is_lower(C) -> (C >= $a andalso C =< $z) orelse (C >= $ß andalso C =< $ÿ andalso C =/= $÷).
is_upper(C) -> (C >= $A andalso C =< $Z) orelse (C >= $À andalso C =< $Þ andalso C =/= $×).
is_namechar(C) -> is_lower(C) orelse is_upper(C) orelse (C >= $0 andalso C =< $9) orelse C =:= $_ orelse C =:= $@.

%% As the running OTP's scanner has it (maybe and else are reserved from OTP 27).
reserved(S) ->
    case erl_scan:string(S) of
        {ok, [{atom, _, _}], _} -> false;
        _ -> true
    end.

int_text(I) when I < 0 ->
    case rand:uniform(3) of
        1 -> ["-", sep(), "(", sep(), nat_text(-I), sep(), ")"];
        _ -> ["-", sep(), nat_text(-I)]
    end;
int_text(I) ->
    case rand:uniform(8) of
        1 -> ["+", sep(), nat_text(I)];
        _ -> nat_text(I)
    end.

nat_text(I) ->
    case rand:uniform(6) of
        1 ->
            case is_char(I) of
                true -> char_text(I);
                false -> integer_to_list(I)
            end;
        2 ->
            B = 1 + rand:uniform(35),
            [integer_to_list(B), "#", randcase(integer_to_list(I, B))];
        3 ->
            separators(integer_to_list(I));
        4 ->
            B = 1 + rand:uniform(35),
            [pick(["", "0", "00"]), integer_to_list(B), "#", separators(randcase(integer_to_list(I, B)))];
        _ ->
            integer_to_list(I)
    end.

char_text(C) ->
    Raw = [[C] || C =/= $\\],
    Options = Raw ++ escapes(C, none),
    [$$, lists:nth(rand:uniform(length(Options)), Options)].

%% Digit separators between some pairs of alphanumerics.
separators([A, B | Rest]) ->
    case rand:uniform(3) of
        1 -> [A, $_ | separators([B | Rest])];
        _ -> [A | separators([B | Rest])]
    end;
separators(S) ->
    S.

float_text(F) ->
    case <<F/float>> of
        <<1:1, _:63>> -> ["-", sep(), float_text(-F)];
        _ -> pos_float_text(F)
    end.

pos_float_text(F) ->
    S = case rand:uniform(4) of
            1 -> float_to_list(F, [{scientific, 17}]);
            2 -> string:replace(float_to_list(F, [{scientific, 17}]), "e", "E");
            _ -> io_lib:format("~w", [F])
        end,
    case rand:uniform(3) of
        1 -> float_separators(lists:flatten(S));
        _ -> S
    end.

%% Separators only inside runs of digits.
float_separators([A, B | Rest]) when A >= $0, A =< $9, B >= $0, B =< $9 ->
    case rand:uniform(3) of
        1 -> [A, $_ | float_separators([B | Rest])];
        _ -> [A | float_separators([B | Rest])]
    end;
float_separators([A | Rest]) ->
    [A | float_separators(Rest)];
float_separators([]) ->
    [].

%% ---- binaries --------------------------------------------------------------------

bin_text(B) ->
    case rand:uniform(6) of
        1 -> io_lib:format("~w", [B]);
        2 -> io_lib:format("~tp", [B]);
        _ -> ["<<", sep(), segments(B), sep(), ">>"]
    end.

segments(<<>>) ->
    "";
segments(B) when bit_size(B) < 8 ->
    K = bit_size(B),
    <<V:K>> = B,
    case rand:uniform(3) of
        1 -> [bin_text(B), sep(), "/", sep(), pick(["bits", "bitstring"])];
        _ -> [int_text(V), sep(), ":", sep(), integer_to_list(K)]
    end;
segments(B) ->
    {Seg, Rest} = segment(B),
    case Rest of
        <<>> -> Seg;
        _ -> [Seg, sep(), ",", sep(), segments(Rest)]
    end.

%% Renders a prefix of B as one segment; returns it and the remainder.
segment(<<X, Rest/bitstring>> = B) ->
    case rand:uniform(8) of
        1 ->
            %% A Latin-1 string: each character is one byte.
            N = rand:uniform(bit_size(B) div 8),
            <<P:N/binary, R/bitstring>> = B,
            {[string_text(binary_to_list(P)), pick(["", ":8", "/integer", ":8/integer-unit:1-unsigned-big"])], R};
        2 ->
            case utf8_prefix(B) of
                {[_ | _] = Cs, R} ->
                    case rand:uniform(2) of
                        1 -> {[string_text(Cs), sep(), "/", sep(), "utf8"], R};
                        2 -> {join([[int_text(C), "/utf8"] || C <- Cs], ","), R}
                    end;
                _ ->
                    {byte_text(X), Rest}
            end;
        3 when bit_size(B) >= 16 ->
            <<W:16, R/bitstring>> = B,
            <<L:16/little>> = <<W:16>>,
            {pick([[int_text(W), ":16"], [int_text(L), ":16/little"],
                   [int_text(W), ":16/big-unsigned-integer"], [int_text(W - 65536 * (W bsr 15)), ":16/signed"]]), R};
        4 ->
            N = rand:uniform(bit_size(B) div 8),
            <<P:N/binary, R/bitstring>> = B,
            {[bin_text(P), sep(), "/", sep(), pick(["binary", "bytes", "bits", "bitstring"])], R};
        5 when bit_size(B) >= 64 ->
            <<P:8/binary, R/bitstring>> = B,
            case P of
                <<F:64/float>> -> {[float_text(F), sep(), "/", sep(), pick(["float", "float-big"])], R};
                _ -> {byte_text(X), Rest}
            end;
        _ ->
            {byte_text(X), Rest}
    end.

byte_text(X) ->
    case rand:uniform(5) of
        1 when X >= 128 -> [int_text(X - 256)];
        2 -> [int_text(X), sep(), ":", sep(), "8"];
        3 -> [int_text(X), "/", pick(["integer", "unsigned", "big", "integer-unsigned-big"])];
        4 -> [int_text(X), ":2/unit:4"];
        _ -> int_text(X)
    end.

utf8_prefix(B) -> utf8_prefix(B, []).

utf8_prefix(<<C/utf8, R/bitstring>>, Acc) when length(Acc) < 4 -> utf8_prefix(R, [C | Acc]);
utf8_prefix(R, Acc) -> {lists:reverse(Acc), R}.

join([X], _) -> X;
join([X | Xs], S) -> [X, sep(), S, sep(), join(Xs, S)].

pick(L) when is_list(L) -> lists:nth(rand:uniform(length(L)), L).
