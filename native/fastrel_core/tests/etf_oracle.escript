#!/usr/bin/env escript
%% Differential oracle for fastrel_core's ETF codec (src/term/etf.rs).
%%
%% Usage: etf_oracle.escript OutDir Seed N
%%
%% Writes, for N random terms T of every kind release tooling can meet (and some it
%% cannot), OutDir/I.bin = term_to_binary(T) and OutDir/I.cbin =
%% term_to_binary(T, [compressed]); then builds a small kernel/stdlib/sasl release with
%% systools:make_script/2 and copies its boot files to OutDir/*.boot. The Rust side
%% decodes every file and checks that re-encoding gives the VM's bytes back.
-mode(compile).

main([Dir, Seed, N]) ->
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    _ = rand:seed(exsss, {list_to_integer(Seed), 17, 4711}),
    lists:foreach(
        fun(I) ->
            T = term(3),
            Base = filename:join(Dir, integer_to_list(I)),
            ok = file:write_file(Base ++ ".bin", term_to_binary(T)),
            ok = file:write_file(Base ++ ".cbin", term_to_binary(T, [compressed]))
        end,
        lists:seq(1, list_to_integer(N))),
    boots(Dir),
    io:format("ok~n");
main(_) ->
    io:format(standard_error, "usage: etf_oracle.escript OutDir Seed N~n", []),
    halt(1).

%% --- random terms ----------------------------------------------------------------------

pick(L) -> lists:nth(rand:uniform(length(L)), L).

upto(N) -> rand:uniform(N + 1) - 1.

term(0) -> leaf();
term(D) ->
    case rand:uniform(12) of
        N when N =< 4 -> leaf();
        5 -> list_to_tuple([term(D - 1) || _ <- lists:seq(1, upto(5))]);
        6 -> [term(D - 1) || _ <- lists:seq(1, upto(5))];
        7 -> improper(D);
        8 -> map(D);
        9 -> map(D);
        10 -> opaque(D);
        11 -> big_tuple();
        12 -> [term(D - 1), int(), string()]
    end.

leaf() ->
    case rand:uniform(14) of
        1 -> latin1_atom();
        2 -> unicode_atom();
        3 -> int();
        4 -> int();
        5 -> float();
        6 -> string();
        7 -> unicode_list();
        8 -> rand:bytes(upto(40));
        9 -> <<(rand:bytes(upto(10)))/binary, (upto(127)):(rand:uniform(7))>>;
        10 -> [];
        11 -> {};
        12 -> long_string();
        13 -> [-rand:uniform(100), 1, 2];
        14 -> #{}
    end.

latin1_atom() ->
    list_to_atom([pick([$a, $z, $_, $@, $0, 16#E9, 16#FF, 16#A0, 32, 16#C0]) || _ <- lists:seq(1, upto(12))]).

unicode_atom() ->
    Len = pick([1, 3, 20, 85, 86, 200, 255]),
    Chars = [pick([$a, 16#E9, 16#100, 16#4E2D, 16#1F600, 16#10FFFF]) || _ <- lists:seq(1, Len)],
    %% Make sure there is at least one non-Latin-1 character.
    list_to_atom([16#3B1 | tl(Chars)]).

int() ->
    case rand:uniform(5) of
        1 -> upto(255);
        2 -> rand:uniform(1 bsl 40) - (1 bsl 39);
        3 -> pick([255, 256, -1, 2147483647, 2147483648, -2147483648, -2147483649,
                   9223372036854775807, 9223372036854775808,
                   -9223372036854775808, -9223372036854775809,
                   18446744073709551616, (1 bsl 2040) - 1, 1 bsl 2040, -(1 bsl 2040)]);
        4 -> pick([1, -1]) * rand:uniform(1 bsl rand:uniform(2200));
        5 -> -rand:uniform(300)
    end.

float() ->
    case rand:uniform(3) of
        1 -> pick([0.0, 1.0, -1.5, 5.0e-324, 1.7976931348623157e308, 0.1, 3.0]);
        2 -> (rand:uniform() - 0.5) * math:pow(10, rand:uniform(200) - 100);
        3 -> random_bits_float()
    end.

random_bits_float() ->
    %% Any finite IEEE double, -0.0 and subnormals included; NaN/inf do not match.
    case <<(rand:uniform(1 bsl 64) - 1):64>> of
        <<F:64/float>> -> F;
        _ -> random_bits_float()
    end.

string() -> [upto(255) || _ <- lists:seq(1, upto(30))].

long_string() ->
    case rand:uniform(60) of
        1 -> [upto(255) || _ <- lists:seq(1, 65535)];
        2 -> [upto(255) || _ <- lists:seq(1, 65536)];
        _ -> [$x || _ <- lists:seq(1, upto(300))]
    end.

unicode_list() ->
    [pick([upto(255), 16#100 + upto(16#D700), 16#E000 + upto(16#FFFF), 16#10000 + upto(16#FFFFF)])
     || _ <- lists:seq(1, 1 + upto(20))].

improper(D) ->
    Tail = pick([latin1_atom(), int(), float(), rand:bytes(3), {a, 1}, #{k => v}]),
    lists:foldr(fun(E, Acc) -> [E | Acc] end, Tail, [term(D - 1) || _ <- lists:seq(1, 1 + upto(4))]).

big_tuple() ->
    list_to_tuple([pick([int(), latin1_atom(), float(), string()]) || _ <- lists:seq(1, pick([255, 256, 300]))]).

%% Up to 32 keys, the most the VM keeps in (sorted) flatmap order.
map(D) ->
    Size = pick([upto(6), upto(32), 32]),
    maps:from_list([{key(), term(D - 1)} || _ <- lists:seq(1, Size)]).

key() ->
    case rand:uniform(10) of
        1 -> upto(20);
        2 -> float(upto(20));
        3 -> pick([1, 1.0, -0.0, 0, 2.5, -3]);
        4 -> latin1_atom();
        5 -> unicode_atom();
        6 -> {pick([1, 1.0, a, "s"]), upto(3)};
        7 -> string();
        8 -> rand:bytes(upto(3));
        9 -> int();
        10 -> pick([[], {}, #{a => 1}, [1 | 2], <<1:3>>])
    end.

%% Pids, ports, references and funs: the codec keeps them as raw bytes.
opaque(D) ->
    case rand:uniform(7) of
        1 -> self();
        2 -> make_ref();
        3 -> hd(erlang:ports());
        4 -> fun lists:map/2;
        5 -> make_fun(term(D - 1));
        6 -> list_to_pid("<0.1.0>");
        7 -> make_fun2(int(), latin1_atom())
    end.

make_fun(X) -> fun() -> X end.

make_fun2(X, Y) -> fun(Z) -> {X, Y, Z} end.

%% --- boot files ------------------------------------------------------------------------

boots(Dir) ->
    Rel = filename:join(Dir, "rel"),
    ok = filelib:ensure_dir(filename:join(Rel, "x")),
    Vsn = fun(App) ->
              _ = application:load(App),
              {ok, V} = application:get_key(App, vsn),
              V
          end,
    Release = {release, {"r", "1"}, {erts, erlang:system_info(version)},
               [{kernel, Vsn(kernel)}, {stdlib, Vsn(stdlib)}, {sasl, Vsn(sasl)}]},
    ok = file:write_file(filename:join(Rel, "r.rel"), io_lib:format("~tp.~n", [Release])),
    {ok, Cwd} = file:get_cwd(),
    ok = file:set_cwd(Rel),
    try
        lists:foreach(
            fun({Name, Opts}) ->
                {ok, _, _} = systools:make_script("r", [silent | Opts]),
                {ok, _} = file:copy("r.boot", filename:join(Dir, Name ++ ".boot"))
            end,
            [{"r", []}, {"r_local", [local]}, {"r_no_dot_erlang", [no_dot_erlang]}])
    after
        ok = file:set_cwd(Cwd)
    end.
