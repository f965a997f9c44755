! latens_causal: causal discovery (include/latens/causal.h) from Fortran.
!
! Data are n x p matrices, one column per variable.  A graph is a mixed graph over p named
! nodes (1-based in Fortran) whose edges carry an endpoint mark at each end:
! LATENS_CAUSAL_NONE (not adjacent), _TAIL, _ARROW, _CIRCLE.  graph%endpoints(e) gives the
! p x p matrix e(i, j) = the mark at j on the edge between i and j, so i --> j is
! e(i, j) = ARROW, e(j, i) = TAIL, and i --- j is TAIL both ways.
module latens_causal
  use, intrinsic :: iso_c_binding
  use latens_core
  implicit none
  private

  integer, parameter, public :: LATENS_CAUSAL_NONE = 0, LATENS_CAUSAL_TAIL = 1, &
       LATENS_CAUSAL_ARROW = 2, LATENS_CAUSAL_CIRCLE = 3
  integer, parameter :: TEST_FISHERZ = 0, TEST_CHISQ = 1, TEST_GSQ = 2

  ! latens_causal_pc_options (defaults from latens_causal_pc_options_default()).
  type, bind(c), public :: latens_causal_pc_options
     real(c_double) :: alpha = 0.05d0
     integer(c_int) :: max_depth = -1, uc_priority = 3, threads = 0, meek = 1
     integer(c_int) :: fci_pdsep = 1, fci_max_path = -1, fci_pds_depth = 3
  end type latens_causal_pc_options

  ! A graph handle; assignment makes a deep copy.
  type, public :: latens_causal_graph
     type(c_ptr) :: handle = c_null_ptr
   contains
     procedure :: nnodes => graph_nnodes
     procedure :: nedges => graph_nedges
     procedure :: name => graph_name
     procedure :: mark => graph_mark
     procedure :: endpoints => graph_endpoints
     procedure :: edges => graph_edges
     procedure :: read => graph_read
     procedure :: free => graph_free
     generic :: assignment(=) => graph_assign
     procedure, private :: graph_assign
     final :: graph_final
  end type latens_causal_graph

  public :: latens_causal_pc_options_default, latens_causal_pc, latens_causal_fci

  interface
     subroutine c_graph_free(g) bind(c, name='latens_causal_graph_free')
       import :: c_ptr
       type(c_ptr), value :: g
     end subroutine c_graph_free
     function c_graph_copy(g) bind(c, name='latens_causal_graph_copy')
       import :: c_ptr
       type(c_ptr), value :: g
       type(c_ptr) :: c_graph_copy
     end function c_graph_copy
     function c_graph_nnodes(g) bind(c, name='latens_causal_graph_nnodes')
       import :: c_ptr, c_size_t
       type(c_ptr), value :: g
       integer(c_size_t) :: c_graph_nnodes
     end function c_graph_nnodes
     function c_graph_nedges(g) bind(c, name='latens_causal_graph_nedges')
       import :: c_ptr, c_size_t
       type(c_ptr), value :: g
       integer(c_size_t) :: c_graph_nedges
     end function c_graph_nedges
     function c_graph_name(g, i) bind(c, name='latens_causal_graph_name')
       import :: c_ptr, c_size_t
       type(c_ptr), value :: g
       integer(c_size_t), value :: i
       type(c_ptr) :: c_graph_name
     end function c_graph_name
     function c_graph_mark(g, i, j) bind(c, name='latens_causal_graph_mark')
       import :: c_ptr, c_size_t, c_int
       type(c_ptr), value :: g
       integer(c_size_t), value :: i, j
       integer(c_int) :: c_graph_mark
     end function c_graph_mark
     function c_graph_edges(g, from, to, mfrom, mto, cap) bind(c, name='latens_causal_graph_edges')
       import :: c_ptr, c_size_t, c_int
       type(c_ptr), value :: g
       integer(c_size_t), intent(out) :: from(*), to(*)
       integer(c_int), intent(out) :: mfrom(*), mto(*)
       integer(c_size_t), value :: cap
       integer(c_size_t) :: c_graph_edges
     end function c_graph_edges
     function c_edge_type(mi, mj) bind(c, name='latens_causal_edge_type')
       import :: c_ptr, c_int
       integer(c_int), value :: mi, mj
       type(c_ptr) :: c_edge_type
     end function c_edge_type
     function c_graph_read(path, out) bind(c, name='latens_causal_graph_read')
       import :: c_ptr, c_char, c_int
       character(kind=c_char), intent(in) :: path(*)
       type(c_ptr), intent(out) :: out
       integer(c_int) :: c_graph_read
     end function c_graph_read
     function c_data_alloc(x, names, discrete, out) bind(c, name='latens_causal_data_alloc')
       import :: c_ptr, c_int, latens_mat_c
       type(latens_mat_c), intent(in) :: x
       type(c_ptr), value :: names
       integer(c_int), value :: discrete
       type(c_ptr), intent(out) :: out
       integer(c_int) :: c_data_alloc
     end function c_data_alloc
     subroutine c_data_free(d) bind(c, name='latens_causal_data_free')
       import :: c_ptr
       type(c_ptr), value :: d
     end subroutine c_data_free
     function c_citest_alloc(d, test, cache) bind(c, name='latens_causal_citest_alloc')
       import :: c_ptr, c_int
       type(c_ptr), value :: d
       integer(c_int), value :: test, cache
       type(c_ptr) :: c_citest_alloc
     end function c_citest_alloc
     subroutine c_citest_free(t) bind(c, name='latens_causal_citest_free')
       import :: c_ptr
       type(c_ptr), value :: t
     end subroutine c_citest_free
     subroutine c_pc_options_default(opt) bind(c, name='latens_causal_pc_options_default')
       import :: latens_causal_pc_options
       type(latens_causal_pc_options), intent(out) :: opt
     end subroutine c_pc_options_default
     function c_pc(t, k, opt, progress, out) bind(c, name='latens_causal_pc')
       import :: c_ptr, c_int, latens_causal_pc_options
       type(c_ptr), value :: t, k
       type(latens_causal_pc_options), intent(in) :: opt
       type(c_ptr), value :: progress
       type(c_ptr), intent(out) :: out
       integer(c_int) :: c_pc
     end function c_pc
     function c_fci(t, k, opt, progress, out) bind(c, name='latens_causal_fci')
       import :: c_ptr, c_int, latens_causal_pc_options
       type(c_ptr), value :: t, k
       type(latens_causal_pc_options), intent(in) :: opt
       type(c_ptr), value :: progress
       type(c_ptr), intent(out) :: out
       integer(c_int) :: c_fci
     end function c_fci
  end interface

contains

  function latens_causal_pc_options_default() result(opt)
    type(latens_causal_pc_options) :: opt
    call c_pc_options_default(opt)
  end function latens_causal_pc_options_default

  ! ------------------------------------------------------------------ graphs

  integer function graph_nnodes(self)
    class(latens_causal_graph), intent(in) :: self
    graph_nnodes = 0
    if (c_associated(self%handle)) graph_nnodes = int(c_graph_nnodes(self%handle))
  end function graph_nnodes

  !> Number of adjacent pairs.
  integer function graph_nedges(self)
    class(latens_causal_graph), intent(in) :: self
    graph_nedges = 0
    if (c_associated(self%handle)) graph_nedges = int(c_graph_nedges(self%handle))
  end function graph_nedges

  !> Node i's name ('' out of range).
  function graph_name(self, i) result(name)
    class(latens_causal_graph), intent(in) :: self
    integer, intent(in) :: i
    character(:), allocatable :: name
    name = ''
    if (c_associated(self%handle) .and. i >= 1) &
         name = latens_f_string(c_graph_name(self%handle, int(i - 1, c_size_t)))
  end function graph_name

  !> The mark at j on the edge between i and j (LATENS_CAUSAL_NONE when not adjacent).
  integer function graph_mark(self, i, j)
    class(latens_causal_graph), intent(in) :: self
    integer, intent(in) :: i, j
    graph_mark = LATENS_CAUSAL_NONE
    if (c_associated(self%handle) .and. i >= 1 .and. j >= 1) &
         graph_mark = int(c_graph_mark(self%handle, int(i - 1, c_size_t), int(j - 1, c_size_t)))
  end function graph_mark

  !> e(i, j) = mark at j on the edge i *-* j, for all nodes (e is p x p, allocated here).
  subroutine graph_endpoints(self, e)
    class(latens_causal_graph), intent(in) :: self
    integer, allocatable, intent(out) :: e(:, :)
    integer :: i, j, p
    p = self%nnodes()
    allocate(e(p, p))
    do j = 1, p
       do i = 1, p
          e(i, j) = self%mark(i, j)
       end do
    end do
  end subroutine graph_endpoints

  !> The edges in canonical order (see latens_causal_graph_edges): from(k), to(k) node
  !> indices and type(k) one of "-->", "---", "<->", "o->", "o-o", "--o".
  subroutine graph_edges(self, from, to, type)
    class(latens_causal_graph), intent(in) :: self
    integer, allocatable, intent(out) :: from(:), to(:)
    character(3), allocatable, intent(out), optional :: type(:)
    integer(c_size_t), allocatable :: cf(:), ct(:)
    integer(c_int), allocatable :: mf(:), mt(:)
    integer(c_size_t) :: n
    integer :: k
    n = 0
    if (c_associated(self%handle)) n = c_graph_nedges(self%handle)
    allocate(cf(max(n, 1_c_size_t)), ct(max(n, 1_c_size_t)), mf(max(n, 1_c_size_t)), &
         mt(max(n, 1_c_size_t)))
    if (n > 0) n = c_graph_edges(self%handle, cf, ct, mf, mt, n)
    from = int(cf(1:n)) + 1
    to = int(ct(1:n)) + 1
    if (present(type)) then
       allocate(type(n))
       do k = 1, int(n)
          type(k) = latens_f_string(c_edge_type(mf(k), mt(k)))
       end do
    end if
  end subroutine graph_edges

  !> Read a graph: an edge-list CSV (from,to,type) or causal-learn's graph.txt.
  subroutine graph_read(self, path, stat)
    class(latens_causal_graph), intent(inout) :: self
    character(*), intent(in) :: path
    integer, intent(out), optional :: stat
    integer(c_int) :: status
    call latens_f_begin(stat)
    call self%free()
    status = c_graph_read(latens_c_string(path), self%handle)
    if (status /= LATENS_OK) self%handle = c_null_ptr
    call latens_f_end(status, stat, 'latens_causal_graph%read')
  end subroutine graph_read

  subroutine graph_free(self)
    class(latens_causal_graph), intent(inout) :: self
    call c_graph_free(self%handle)
    self%handle = c_null_ptr
  end subroutine graph_free

  subroutine graph_final(self)
    type(latens_causal_graph), intent(inout) :: self
    call self%free()
  end subroutine graph_final

  subroutine graph_assign(lhs, rhs)
    class(latens_causal_graph), intent(inout) :: lhs
    class(latens_causal_graph), intent(in) :: rhs
    if (c_associated(lhs%handle, rhs%handle)) return
    call lhs%free()
    if (.not. c_associated(rhs%handle)) return
    lhs%handle = c_graph_copy(rhs%handle)
    if (.not. c_associated(lhs%handle)) error stop 'latens: latens_causal_graph assignment failed'
  end subroutine graph_assign

  ! ------------------------------------------------------------------ searches

  ! PC or FCI on the data x with the named test: the shared setup and clean-up.
  subroutine search(fci, x, graph, names, test, discrete, opt, stat, what)
    logical, intent(in) :: fci
    real(c_double), intent(in), contiguous, target :: x(:, :)
    type(latens_causal_graph), intent(inout) :: graph
    character(*), intent(in), optional :: names(:), test
    logical, intent(in), optional :: discrete
    type(latens_causal_pc_options), intent(in), optional :: opt
    integer, intent(out), optional :: stat
    character(*), intent(in) :: what
    character(kind=c_char), allocatable, target :: buf(:)
    type(c_ptr), allocatable, target :: ptrs(:)
    type(c_ptr) :: pnames, d, t
    type(latens_causal_pc_options) :: o
    integer :: j, k, l, itest, disc
    integer(c_int) :: status
    call latens_f_begin(stat)
    call graph%free()
    status = LATENS_OK
    d = c_null_ptr
    t = c_null_ptr
    pnames = c_null_ptr
    disc = 0
    if (present(discrete)) then
       if (discrete) disc = 1
    end if
    itest = merge(TEST_CHISQ, TEST_FISHERZ, disc == 1)
    if (present(test)) then
       select case (test)
       case ('fisherz')
          itest = TEST_FISHERZ
       case ('chisq')
          itest = TEST_CHISQ
       case ('gsq')
          itest = TEST_GSQ
       case default
          status = latens_f_fail(LATENS_EINVAL, what // ': unknown test "' // test // &
               '" (known: fisherz, chisq, gsq)')
       end select
    end if
    if (present(opt)) then
       o = opt
    else
       call c_pc_options_default(o)
    end if
    if (status == LATENS_OK .and. present(names)) then
       if (size(names) /= size(x, 2)) then
          status = latens_f_fail(LATENS_EBADLEN, what // ': size(names) /= size(x, 2)')
       else
          ! One buffer of NUL-terminated names and an array of pointers into it.
          allocate(buf(sum(len_trim(names)) + size(names)), ptrs(size(names)))
          k = 1
          do j = 1, size(names)
             ptrs(j) = c_loc(buf(k))
             do l = 1, len_trim(names(j))
                buf(k) = names(j)(l:l)
                k = k + 1
             end do
             buf(k) = c_null_char
             k = k + 1
          end do
          pnames = c_loc(ptrs)
       end if
    end if
    if (status == LATENS_OK) status = c_data_alloc(latens_mat_view(x), pnames, int(disc, c_int), d)
    if (status == LATENS_OK) then
       t = c_citest_alloc(d, int(itest, c_int), 1_c_int)
       if (.not. c_associated(t)) status = int(max(latens_last_error_status(), 1), c_int)
    end if
    if (status == LATENS_OK) then
       if (fci) then
          status = c_fci(t, c_null_ptr, o, c_null_ptr, graph%handle)
       else
          status = c_pc(t, c_null_ptr, o, c_null_ptr, graph%handle)
       end if
       if (status /= LATENS_OK) graph%handle = c_null_ptr
    end if
    call c_citest_free(t)
    call c_data_free(d)
    call latens_f_end(status, stat, what)
  end subroutine search

  !> PC-stable on the data x (n x p): graph receives the CPDAG.  names: p node names
  !> (default X1..Xp); test: 'fisherz' (default for continuous data), 'chisq' or 'gsq'
  !> (chisq is the default for discrete = .true.); opt: alpha, max_depth, ... (default options).
  subroutine latens_causal_pc(x, graph, names, test, discrete, opt, stat)
    real(c_double), intent(in), contiguous, target :: x(:, :)
    type(latens_causal_graph), intent(inout) :: graph
    character(*), intent(in), optional :: names(:), test
    logical, intent(in), optional :: discrete
    type(latens_causal_pc_options), intent(in), optional :: opt
    integer, intent(out), optional :: stat
    call search(.false., x, graph, names, test, discrete, opt, stat, 'latens_causal_pc')
  end subroutine latens_causal_pc

  !> FCI on the data x: graph receives the PAG (arguments as latens_causal_pc).
  subroutine latens_causal_fci(x, graph, names, test, discrete, opt, stat)
    real(c_double), intent(in), contiguous, target :: x(:, :)
    type(latens_causal_graph), intent(inout) :: graph
    character(*), intent(in), optional :: names(:), test
    logical, intent(in), optional :: discrete
    type(latens_causal_pc_options), intent(in), optional :: opt
    integer, intent(out), optional :: stat
    call search(.true., x, graph, names, test, discrete, opt, stat, 'latens_causal_fci')
  end subroutine latens_causal_fci

end module latens_causal
