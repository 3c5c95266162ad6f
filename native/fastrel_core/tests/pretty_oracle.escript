#!/usr/bin/env escript
%% -*- erlang -*-
%%
%% Oracle for fastrel_core::pretty: what the real VM prints with ~tp.
%%
%% Usage: escript pretty_oracle.escript OutDir [Count [Seed]]
%%
%% Writes into OutDir, for I in 1..Count, a random term as I.etf (term_to_binary) and its
%% rendering as I.txt (io_lib:format("~tp", [T]) as UTF-8), the same for a list of ~18 000
%% floats as floats.etf/floats.txt, plus:
%%   range.txt  io:printable_range() of this VM (run with ERL_FLAGS="+pc unicode" for the
%%              unicode set), otp.txt the OTP major release,
%%   r.script/r.boot      systools:make_script of kernel+stdlib+sasl,
%%   big.script/big.boot  the same for a release of every bundled application
%%                        (a 74 KB script on OTP 25).
%% The terms depend only on the seed, not on the printable range.

main([Dir]) -> main([Dir, "500"]);
main([Dir, Count]) -> main([Dir, Count, "1"]);
main([Dir, Count, Seed]) ->
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    _ = rand:seed(exsss, {list_to_integer(Seed), 7, 11}),
    lists:foreach(fun(I) -> write_case(Dir, I, gen_case(I)) end,
                  lists:seq(1, list_to_integer(Count))),
    write_case(Dir, "floats", gen_floats()),
    ok = file:write_file(filename:join(Dir, "range.txt"), atom_to_list(io:printable_range())),
    ok = file:write_file(filename:join(Dir, "otp.txt"), erlang:system_info(otp_release)),
    make_release(Dir, "r", [kernel, stdlib, sasl]),
    make_release(Dir, "big", all_apps()),
    halt(0);
main(_) ->
    io:format(standard_error, "usage: pretty_oracle.escript OutDir [Count [Seed]]~n", []),
    halt(2).

write_case(Dir, I, T) ->
    Base = filename:join(Dir, if is_integer(I) -> integer_to_list(I); true -> I end),
    ok = file:write_file(Base ++ ".etf", term_to_binary(T)),
    ok = file:write_file(Base ++ ".txt", unicode:characters_to_binary(io_lib:format("~tp", [T]))).

%% ---- releases via systools ----

make_release(Dir, Name, Apps0) ->
    Apps = [A || A <- Apps0, loaded(A)],
    Vsns = [{A, V} || A <- Apps, {ok, V} <- [application:get_key(A, vsn)]],
    Rel = {release, {Name, "1"}, {erts, erlang:system_info(version)}, Vsns},
    ok = file:write_file(filename:join(Dir, Name ++ ".rel"), io_lib:format("~tp.~n", [Rel])),
    {ok, Cwd} = file:get_cwd(),
    ok = file:set_cwd(Dir),
    try systools:make_script(Name, [silent]) of
        {ok, _, _} -> ok;
        Other -> io:format(standard_error, "make_script ~s: ~tp~n", [Name, Other]), halt(1)
    after
        file:set_cwd(Cwd)
    end.

loaded(A) ->
    case application:load(A) of
        ok -> true;
        {error, {already_loaded, _}} -> true;
        _ -> false
    end.

%% kernel, stdlib, sasl and every other bundled application (erts has no .app to load).
all_apps() ->
    Apps = [list_to_atom(filename:basename(F, ".app"))
            || F <- filelib:wildcard(filename:join(code:root_dir(), "lib/*/ebin/*.app"))],
    [kernel, stdlib, sasl | lists:usort(Apps) -- [kernel, stdlib, sasl, erts]].

%% ---- random terms ----

pick(L) -> lists:nth(rand:uniform(length(L)), L).
rnd(Lo, Hi) -> Lo + rand:uniform(Hi - Lo + 1) - 1.

gen_case(I) when I rem 25 =:= 0 -> gen_script();
gen_case(I) when I rem 7 =:= 0 -> gen_atomic();
gen_case(_) -> gen(rnd(1, 6)).

gen(D) when D =< 0 -> gen_atomic();
gen(D) ->
    case rand:uniform(17) of
        1 -> gen_atomic();
        2 -> gen_tagged(D);
        3 -> gen_tagged(D);
        4 -> [gen_atom() || _ <- lists:seq(1, rnd(1, 40))];
        5 -> gen_string();
        6 -> [gen(D - 1) || _ <- lists:seq(1, rnd(1, 6))];
        7 -> list_to_tuple([gen(D - 1) || _ <- lists:seq(0, rnd(0, 6))]);
        8 -> gen_map(D);
        9 -> gen_improper(D);
        10 -> gen_binary();
        11 -> gen_bits();
        12 -> [gen_string() || _ <- lists:seq(1, rnd(1, 8))];
        13 -> {gen_atom(), [gen_tagged(D - 1) || _ <- lists:seq(1, rnd(1, 5))]};
        14 -> [gen_int() || _ <- lists:seq(1, rnd(1, 40))];
        15 -> [{gen_atom(), gen(D - 2)} || _ <- lists:seq(1, rnd(1, 8))];
        16 -> list_to_tuple([gen_atomic() || _ <- lists:seq(1, rnd(2, 30))]);
        17 -> gen_deep(rnd(5, 25))
    end.

%% Deep nesting pushes columns past the middle of the line: the cases where the
%% tagged-tuple indentation falls back from -1 to 4 or 1.
gen_deep(0) -> gen_atomic();
gen_deep(N) ->
    case rand:uniform(5) of
        1 -> {gen_atom(), gen_deep(N - 1)};
        2 -> [gen_atom(), gen_deep(N - 1)];
        3 -> {gen_atom(), gen_atomic(), gen_deep(N - 1), gen_atom()};
        4 -> #{gen_atom() => gen_deep(N - 1)};
        5 -> [gen_deep(N - 1) | gen_atomic()]
    end.

gen_tagged(D) ->
    Tag = case rand:uniform(3) of
              1 -> pick([a, c, ab, apply, path, primLoad, progress, kernel_load_completed]);
              _ -> gen_atom()
          end,
    list_to_tuple([Tag | [gen(D - 1) || _ <- lists:seq(1, rnd(1, 4))]]).

gen_improper(D) ->
    Tail = case rand:uniform(5) of
               1 -> gen_tagged(D - 1);
               2 -> gen_binary();
               3 -> #{a => gen_atomic()};
               _ -> gen_atomic()
           end,
    lists:foldr(fun(E, Acc) -> [E | Acc] end, Tail, [gen(D - 1) || _ <- lists:seq(1, rnd(1, 8))]).

gen_map(D) ->
    maps:from_list([{gen_key(), gen(D - 1)} || _ <- lists:seq(0, rnd(0, 10))] ++
                   [{gen_atom(), gen_atomic()} || _ <- lists:seq(1, rnd(0, 21))]).

gen_key() ->
    case rand:uniform(6) of
        1 -> gen_int();
        2 -> gen_string();
        3 -> {gen_atom(), gen_int()};
        4 -> gen_float();
        _ -> gen_atom()
    end.

gen_atomic() ->
    case rand:uniform(8) of
        1 -> gen_int();
        2 -> gen_float();
        3 -> gen_string();
        4 -> gen_binary();
        5 -> pick([[], {}, #{}, <<>>]);
        _ -> gen_atom()
    end.

gen_atom() ->
    case rand:uniform(10) of
        1 -> pick(['after', 'and', 'andalso', 'band', 'begin', 'bnot', 'bor', 'bsl', 'bsr',
                   'bxor', 'case', 'catch', 'cond', 'div', 'end', 'fun', 'if', 'let', 'not',
                   'of', 'or', 'orelse', 'receive', 'rem', 'try', 'when', 'xor', 'maybe', 'else',
                   feature, true, false, undefined, infinity]);
        2 -> pick(['', 'Abc', '_x', 'a b', 'a-b', 'a.b', 'a\'b', 'a\\b', 'a"b', '1a', 'é',
                   'ßtraße', 'Ärger', 'aÄ', 'a×b', 'a÷b', '÷', 'αβ', 'a\nb', 'a\tb', 'tab\e',
                   'del\177', 'c1\200\237', 'nbsp\240x', 'a@b', 'a_B9', 'zz@', 'ÿ',
                   '日本', 'emoji😀', 'zero\0']);
        3 -> list_to_atom(gen_chars(rnd(1, 30), latin1_name));
        _ -> list_to_atom(gen_chars(rnd(1, 22), name))
    end.

gen_chars(N, Pool) -> [gen_char(Pool) || _ <- lists:seq(1, N)].

gen_char(name) -> pick("abcdefghijklmnopqrstuvwxyz_ABCXYZ0123456789@abcdefghijklmnoprstu");
gen_char(latin1_name) -> pick("abcxyz_ZÀÞßÿé@09 -.'\"\\\n" ++ [$\240, $\177, $\200, $\327, $\367]);
gen_char(ascii) -> rnd(32, 126);
gen_char(escapes) -> pick("\n\r\t\v\b\f\e\"\\'abc" ++ [0, 1, 31, 127, 128, 150, 159, 160]);
gen_char(latin1) -> rnd(160, 255);
gen_char(unicode) -> pick([945, 946, 8364, 20013, 25991, 16#1F600, 16#FFFD, 16#10FFFF,
                           16#D7FF, 16#E000, 16#FFFE, 16#FFFF, 16#10000, 256, 1024]);
gen_char(mixed) -> gen_char(pick([ascii, ascii, ascii, ascii, escapes, latin1, unicode])).

gen_string() ->
    N = pick([1, 2, 5, 10, 20, 40, 60, 75, 78, 79, 80, 81, 90, 120, 200]),
    case rand:uniform(6) of
        1 -> gen_chars(N, ascii);
        2 -> gen_chars(N, mixed);
        3 -> gen_chars(N, latin1);
        4 -> gen_chars(N, unicode);
        5 -> "$ROOT/lib/" ++ gen_chars(rnd(3, 12), name) ++ "-1.2.3/ebin";
        6 -> gen_chars(rnd(1, 10), ascii) ++ [pick([-1, 1 bsl 40, 16#110000, 16#D800, foo, "x"])]
    end.

gen_binary() ->
    N = pick([1, 3, 10, 20, 21, 40, 70, 90, 150, 400]),
    case rand:uniform(8) of
        1 -> list_to_binary(gen_chars(N, ascii));
        2 -> unicode:characters_to_binary(gen_chars(N, mixed));
        3 -> unicode:characters_to_binary(gen_chars(N, unicode));
        4 -> list_to_binary(gen_chars(N, latin1));
        5 -> crypto_bytes(N);
        6 -> list_to_binary([rnd(0, 31) || _ <- lists:seq(1, N)]);
        7 -> <<(list_to_binary(gen_chars(N, ascii)))/binary, 0>>;
        %% UTF-8 then invalid UTF-8: OTP 28+ stops at the first unprintable character.
        8 -> <<(unicode:characters_to_binary(gen_chars(rnd(1, 3), unicode)))/binary,
               (list_to_binary(gen_chars(N, latin1)))/binary>>
    end.

crypto_bytes(N) -> list_to_binary([rnd(0, 255) || _ <- lists:seq(1, N)]).

gen_bits() ->
    Bytes = crypto_bytes(pick([0, 1, 2, 10, 30, 60, 200])),
    K = rnd(1, 7),
    <<Bytes/binary, (rnd(0, (1 bsl K) - 1)):K>>.

gen_int() ->
    case rand:uniform(8) of
        1 -> rnd(0, 255);
        2 -> -rnd(1, 1000);
        3 -> rnd(256, 1 bsl 31);
        4 -> (1 bsl rnd(31, 64)) - rnd(0, 2);
        5 -> -(1 bsl rnd(31, 64)) + rnd(0, 2);
        6 -> rnd(1, 1 bsl 200) * pick([1, -1]);
        7 -> pick([0, -1, 1 bsl 63, -(1 bsl 63), (1 bsl 63) - 1, 1 bsl 64, 1 bsl 2100]);
        8 -> rnd(1, 99999999)
    end.

gen_float() ->
    case rand:uniform(6) of
        1 -> pick([0.0, neg_zero(), 1.0, -1.0, 0.1, 0.5, 1.5, 100.0, 1000.0, 1.0e20, 1.0e-4,
                   1.0e-5, 1.0e15, 1.0e16, 1.0e17, 123456789.0, 1234567890.0, 12345678900.0,
                   9007199254740992.0, 9007199254740991.0, 9007199254740994.0,
                   9007199254740990.0, 9007199254740980.0, 90071992547409.0,
                   900719925474099.0, 9007199254740900.0, 90071992547409920.0, 4.5e15,
                   4503599627370496.0, 4503599627370497.0, 1.0e22, 1.0e23, 5.0e-324,
                   2.2250738585072014e-308, 1.7976931348623157e308, 0.001234, 0.0001234,
                   1234.5, 12340.0, 123400.0, 1.0e100, 1.0e-100, 3.14159, 2.718281828459045,
                   0.30000000000000004, 1/3, 2/3, 1.0e9, 1.0e10, 1.5e10, 1.23456789e9]);
        2 -> float_of_bits(rand:uniform(16#7FEFFFFFFFFFFFFF)) * pick([1, -1]);
        3 -> rand:uniform() * math:pow(10, rnd(-30, 30)) * pick([1, -1]);
        4 -> float(rnd(1, 1 bsl 60)) * pick([1, -1]);
        5 -> float(rnd(0, 100000)) / pick([1, 2, 4, 8, 10, 100, 1000]);
        6 -> math:pow(2, rnd(-1074, 1022)) * pick([1, -1, 1.5, -1.75])
    end.

neg_zero() -> float_of_bits(16#8000000000000000).

float_of_bits(B) -> <<F/float>> = <<B:64>>, F.

%% Every power of two (where the gap below is half the gap above, so the shortest digits
%% are hardest to get right), with neighbours, and random bit patterns.
gen_floats() ->
    Pow2 = [math:pow(2, E) || E <- lists:seq(-1074, 1023)],
    Near = [float_of_bits(B + D) || F <- Pow2, F > 0.0, <<B:64>> <- [<<F/float>>],
                                     D <- [-1, 1], B + D < 16#7FF0000000000000],
    Rand = [float_of_bits(rand:uniform(16#7FEFFFFFFFFFFFFF)) || _ <- lists:seq(1, 3000)],
    [F * S || F <- Pow2 ++ Near ++ Rand, S <- [1, -1]].

%% Shapes like the terms systools writes.
gen_script() ->
    Mods = fun() -> [gen_atom() || _ <- lists:seq(1, rnd(1, 60))] end,
    Apps = [list_to_atom(gen_chars(rnd(3, 10), name)) || _ <- lists:seq(1, rnd(1, 4))],
    AppSpec = fun(A) ->
        {application, A,
         [{description, pick(["ERTS  CXC 138 10", "Ünïcødé ∑ app", gen_string()])},
          {vsn, "1.2." ++ integer_to_list(rnd(0, 20))},
          {modules, Mods()},
          {registered, Mods()},
          {applications, [kernel, stdlib]},
          {included_applications, []},
          {env, [{gen_atom(), gen(2)} || _ <- lists:seq(1, rnd(0, 5))]},
          {maxT, infinity}, {maxP, infinity},
          {mod, {A, []}}]}
    end,
    {script, {pick(["rel", "ünï", gen_string()]), "1.0"},
     [{preLoaded, Mods()},
      {progress, preloaded},
      {path, ["$ROOT/lib/" ++ atom_to_list(A) ++ "-1.0/ebin" || A <- Apps]},
      {primLoad, Mods()},
      {kernel_load_completed},
      {progress, loaded_kernel},
      {path, ["$ROOT/lib/" ++ atom_to_list(A) ++ "-1.0/ebin" || A <- Apps]},
      {primLoad, Mods()},
      {progress, loaded_modules},
      {path, ["$ROOT/lib/kernel-8.5/ebin"]},
      {kernelProcess, heart, {heart, start, []}},
      {kernelProcess, application_controller,
       {application_controller, start, [AppSpec(kernel)]}},
      {progress, init_kernel_started}] ++
     [{apply, {application, load, [AppSpec(A)]}} || A <- Apps] ++
     [{progress, applications_loaded},
      {apply, {application, start_boot, [kernel, permanent]}},
      {apply, {c, erlangrc, []}},
      {progress, started}]}.
