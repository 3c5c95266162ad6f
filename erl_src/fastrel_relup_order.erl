%% SPDX-License-Identifier: Apache-2.0
%% @doc The order `systools_rc' gives dependent module instructions, asked of `digraph'.
%%
%% systools builds a `digraph' of the module instructions of a relup script (an edge
%% from each module to each module it depends on) and orders each weakly connected
%% component by a topological sort of its condensation. Where the dependencies leave the
%% order open, the result follows the hash order of the ETS tables behind `digraph', which
%% only the VM knows: relnif's NIF computes the order itself when it is unique and asks
%% this module otherwise. The graphs are built with the same calls, in the same order, as
%% systools makes them, so the tables and hence the order are the same.
-module(fastrel_relup_order).

-export([components/2]).

%% @doc `VDs' is `[{Mod, DepMods}]' in instruction order; returns, for each weakly
%% connected component holding one of `Roots', its modules in the order systools emits
%% their instructions. The whole graph is built (the order of its edge table decides
%% the order edges are copied in), but only the asked components are sorted.
-spec components([{atom(), [atom()]}], [atom()]) -> [[atom()]].
components(VDs, Roots) ->
    G = digraph:new(),
    try
        Numbered = lists:zip(lists:seq(1, length(VDs)), VDs),
        _ = [digraph:add_vertex(G, Mod, N) || {N, {Mod, _}} <- Numbered],
        _ = [digraph:add_edge(G, Mod, M) || {Mod, Mods} <- VDs, M <- Mods],
        Wanted = maps:from_list([{R, true} || R <- Roots]),
        [component_order(G, WC) || WC <- digraph_utils:components(G),
                                   lists:any(fun(V) -> is_map_key(V, Wanted) end, WC)]
    after
        digraph:delete(G)
    end.

component_order(G, WC) ->
    H = restrict(G, WC),
    S = condense(H),
    try
        Sorted = digraph_utils:topsort(S),
        lists:append([[V || {_, V} <- lists:keysort(1, [{number(H, V), V} || V <- SCC])]
                      || SCC <- Sorted])
    after
        digraph:delete(H),
        digraph:delete(S)
    end.

number(H, V) ->
    {V, N} = digraph:vertex(H, V),
    N.

%% The subgraph on `Vs', vertices in `Vs' order, edges in `G''s edge order and ids.
restrict(G, Vs) ->
    H = digraph:new(),
    _ = [digraph:add_vertex(H, V, Label) || V <- Vs, {_, Label} <- [digraph:vertex(G, V)]],
    lists:foreach(
      fun(E) ->
              {_, V1, V2, Label} = digraph:edge(G, E),
              case {digraph:vertex(H, V1), digraph:vertex(H, V2)} of
                  {{V1, _}, {V2, _}} -> digraph:add_edge(H, E, V1, V2, Label);
                  _ -> ok
              end
      end, digraph:edges(G)),
    H.

%% A graph whose vertices are the strong components of `G' (as lists), with an edge
%% where one component reaches another.
condense(G) ->
    S = digraph:new(),
    SCCs = digraph_utils:strong_components(G),
    _ = [digraph:add_vertex(S, C) || C <- SCCs],
    lists:foreach(
      fun(C1) ->
              Reach = digraph_utils:reachable(C1, G),
              _ = [digraph:add_edge(S, C1, C2)
                   || C2 <- SCCs, C1 /= C2, lists:member(hd(C2), Reach)],
              ok
      end, SCCs),
    S.
