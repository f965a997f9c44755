! latens: the whole Fortran 2008 interface to the latens library in one `use latens`.
! Each module can also be used on its own (latens_core, latens_sde, latens_gp, latens_pc,
! latens_causal).  Conventions (status, stat=, handles, 1-based indices): latens_core.f90.
module latens
  use latens_core
  use latens_sde
  use latens_gp
  use latens_pc
  use latens_causal
  implicit none
  public
  ! The helpers the modules share stay out of the user's namespace.
  private :: latens_f_begin, latens_f_end, latens_f_fail
end module latens
